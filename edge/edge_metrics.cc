#include "edge/edge_metrics.h"

#include <cmath>

namespace kv::edge {
namespace {

// 100 µs up to the window, about 4 buckets per decade.
prometheus::Histogram::BucketBoundaries PropagationBuckets(absl::Duration window) {
  prometheus::Histogram::BucketBoundaries buckets;
  const double top = absl::ToDoubleSeconds(window);
  for (double b = 100e-6; b < top; b *= std::pow(10.0, 0.25)) {
    buckets.push_back(std::round(b * 1e6) / 1e6);
  }
  buckets.push_back(top);
  return buckets;
}

prometheus::Counter& Counter(prometheus::Registry& r, const std::string& name,
                             const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}

prometheus::Gauge& Gauge(prometheus::Registry& r, const std::string& name,
                         const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

prometheus::Family<prometheus::Counter>& BulkRevalidated(prometheus::Registry& r) {
  // Registering the same family twice returns the first one.
  return prometheus::BuildCounter()
      .Name("kv_cache_bulk_revalidated_total")
      .Help("Cached entries revalidated in bulk after a loss of continuity: "
            "current = kept, changed = dropped")
      .Register(r);
}

}  // namespace

EdgeMetrics::EdgeMetrics(prometheus::Registry& r, absl::Duration window)
    : propagation_latency(
          prometheus::BuildHistogram()
              .Name("kv_propagation_latency_seconds")
              .Help("Central commit time to applied at this edge, live stream events")
              .Register(r)
              .Add({}, PropagationBuckets(window))),
      replayed_events(Counter(r, "kv_stream_replayed_events_total",
                              "Events applied from a replay after (re)subscribing")),
      cache_hits(Counter(r, "kv_cache_hits_total", "Reads served from the edge cache")),
      cache_misses(Counter(r, "kv_cache_misses_total", "Reads fetched from a central")),
      cache_revalidations(Counter(r, "kv_cache_revalidations_total",
                                  "Cached entries revalidated with a central")),
      stream_continuity_lost(
          Counter(r, "kv_stream_continuity_lost_total",
                  "Times the edge could not prove it missed nothing (resume refused, "
                  "sequence gap) and marked its cache for revalidation")),
      cache_bulk_revalidated_current(BulkRevalidated(r).Add({{"result", "current"}})),
      cache_bulk_revalidated_changed(BulkRevalidated(r).Add({{"result", "changed"}})),
      cache_bytes(Gauge(r, "kv_cache_bytes", "Bytes held by the cache, overhead included")),
      cache_entries(Gauge(r, "kv_cache_entries", "Entries in the cache")),
      cache_capacity_bytes(Gauge(r, "kv_cache_capacity_bytes", "The cache's byte bound")),
      cache_evictions(Counter(r, "kv_cache_evictions_total", "Entries evicted for space")),
      stream_connected(Gauge(r, "kv_stream_connected",
                             "1 while the invalidation stream is connected")),
      stream_heartbeat_age_seconds(Gauge(r, "kv_stream_heartbeat_age_seconds",
                                         "Time since the last heartbeat arrived")),
      stream_staleness_seconds(Gauge(r, "kv_stream_staleness_seconds",
                                     "How old the edge's proof of completeness is")),
      stream_last_applied_sequence(Gauge(r, "kv_stream_last_applied_sequence",
                                         "Last change-log sequence applied")),
      stream_reconnects(Counter(r, "kv_stream_reconnects_total",
                                "Invalidation stream (re)connections")),
      unavailable_reads(Counter(r, "kv_edge_unavailable_reads_total",
                                "Reads refused because no central could vouch for them")),
      window_seconds(Gauge(r, "kv_edge_window_seconds",
                           "The longest staleness this edge ever serves (--window)")) {
  window_seconds.Set(absl::ToDoubleSeconds(window));
}

}  // namespace kv::edge
