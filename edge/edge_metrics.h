#ifndef KV_EDGE_EDGE_METRICS_H_
#define KV_EDGE_EDGE_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/time/time.h"

namespace kv::edge {

// The edge's Prometheus metrics (DESIGN §7), registered in one registry.
// prometheus-cpp metrics are thread-safe; the references live as long as
// the registry.
struct EdgeMetrics {
  // `window` sets the top of the propagation histogram's buckets.
  EdgeMetrics(prometheus::Registry& registry, absl::Duration window);

  // Central commit time → applied at this edge, for live stream events.
  prometheus::Histogram& propagation_latency;
  // The same for events replayed after a (re)subscription.
  prometheus::Counter& replayed_events;
  prometheus::Counter& cache_hits;
  prometheus::Counter& cache_misses;
  prometheus::Counter& cache_revalidations;
  // The stream could not prove the edge missed nothing (a resume refused,
  // a gap): the cache was marked for revalidation (never cleared).
  prometheus::Counter& stream_continuity_lost;
  // Entries revalidated in bulk afterwards: still current, or dropped.
  prometheus::Counter& cache_bulk_revalidated_current;
  prometheus::Counter& cache_bulk_revalidated_changed;
  prometheus::Gauge& cache_bytes;
  prometheus::Gauge& cache_entries;
  prometheus::Gauge& cache_capacity_bytes;
  prometheus::Counter& cache_evictions;
  prometheus::Gauge& stream_connected;
  prometheus::Gauge& stream_heartbeat_age_seconds;
  prometheus::Gauge& stream_staleness_seconds;
  prometheus::Gauge& stream_last_applied_sequence;
  prometheus::Counter& stream_reconnects;
  prometheus::Counter& unavailable_reads;
  // --window in seconds, set at construction: alerts compare the
  // propagation p99 with it (deploy/prometheus/rules).
  prometheus::Gauge& window_seconds;
};

}  // namespace kv::edge

#endif  // KV_EDGE_EDGE_METRICS_H_
