// --workload=propagation: how long a write at the central takes to reach
// the edges, as the edges measure it.
//
// 1 kv-central + --edges kv-edges, all --dev on free ports, unpinned. Each
// edge caches --keys keys (read once); the bench then writes at
// --write_rate puts/s (paced, async, at most --write_concurrency in
// flight) to the central, cycling over those keys, for --duration. Before
// and after, it scrapes every edge's /metrics and takes the delta of the
// kv_propagation_latency_seconds histogram (central commit time to applied
// at the edge; both clocks in microseconds), summed over the edges;
// quantiles are interpolated linearly within buckets and max is the upper
// bound of the highest non-empty bucket. No baseline applies.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "proto/kv.grpc.pb.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/latency_recorder.h"
#include "tools/bench/owned_process.h"
#include "tools/bench/prom_scrape.h"
#include "tools/bench/report.h"
#include "tools/bench/workloads.h"

namespace kv::bench {
namespace {

constexpr char kHistogram[] = "kv_propagation_latency_seconds";
constexpr char kReplayed[] = "kv_stream_replayed_events_total";

void Fail(const absl::Status& s) { std::cerr << "kv-bench: " << s.message() << "\n"; }

struct EdgeSnapshot {
  PromHistogram live;
  double replayed = 0;
};

absl::StatusOr<EdgeSnapshot> Scrape(int metrics_port) {
  absl::StatusOr<std::string> text = HttpGet(metrics_port, "/metrics");
  if (!text.ok()) return text.status();
  EdgeSnapshot snap;
  absl::StatusOr<PromHistogram> h = ParseHistogram(*text, kHistogram);
  if (!h.ok()) return h.status();
  snap.live = *std::move(h);
  absl::StatusOr<double> replayed = ParseSample(*text, kReplayed);
  snap.replayed = replayed.ok() ? *replayed : 0;
  return snap;
}

// Sum over edges of (after - before).
struct Totals {
  PromHistogram live;
  double replayed = 0;
};

absl::StatusOr<Totals> Delta(const std::vector<int>& ports,
                             const std::vector<EdgeSnapshot>& before) {
  Totals t;
  for (size_t i = 0; i < ports.size(); ++i) {
    absl::StatusOr<EdgeSnapshot> after = Scrape(ports[i]);
    if (!after.ok()) return after.status();
    absl::StatusOr<PromHistogram> d = after->live.Minus(before[i].live);
    if (!d.ok()) return d.status();
    if (absl::Status s = t.live.Add(*d); !s.ok()) return s;
    t.replayed += after->replayed - before[i].replayed;
  }
  return t;
}

struct WriteCall {
  grpc::ClientContext* ctx = nullptr;
  kv::v1::PutRequest req;
  kv::v1::PutResponse resp;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<kv::v1::PutResponse>> reader;
  absl::Time start;
};

struct WriteStats {
  uint64_t ok = 0, errors = 0;
  double secs = 0;
  LatencyRecorder latency_us;
  std::string first_error;
};

// Paced writer: put number i is due at t0 + i/rate; one thread issues due
// puts and reaps completions from one CQ. A writer more than 100 ms behind
// (the central or the cap holding it back) skips the missed slots, so the
// achieved rate shows the shortfall instead of a burst.
WriteStats PacedWrites(const Options& o, const std::string& addr, const std::string& ns,
                       const std::vector<std::string>& keys) {
  auto stub = NewStub(addr);
  grpc::CompletionQueue cq;
  const int cap = std::max(1, o.write_concurrency);
  std::vector<std::unique_ptr<WriteCall>> calls;
  std::vector<WriteCall*> free_calls;
  for (int i = 0; i < cap; ++i) {
    calls.push_back(std::make_unique<WriteCall>());
    free_calls.push_back(calls.back().get());
  }
  WriteStats stats;
  std::atomic<uint64_t> done{0}, failed{0};
  const absl::Duration interval = absl::Seconds(1) / std::max(0.001, o.write_rate);
  const absl::Time t0 = absl::Now();
  const absl::Time end = t0 + o.duration;
  absl::Time next = t0;
  uint64_t issued = 0;
  int in_flight = 0;
  auto reap = [&](void* tag, bool ok) {
    WriteCall* call = static_cast<WriteCall*>(tag);
    if (ok && call->status.ok()) {
      ++stats.ok;
      stats.latency_us.Record(absl::ToInt64Microseconds(absl::Now() - call->start));
      done.fetch_add(1, std::memory_order_relaxed);
    } else {
      if (stats.errors == 0) {
        stats.first_error = absl::StrFormat("status %d: %s",
                                            static_cast<int>(call->status.error_code()),
                                            call->status.error_message());
      }
      ++stats.errors;
      failed.fetch_add(1, std::memory_order_relaxed);
    }
    delete call->ctx;
    call->ctx = nullptr;
    free_calls.push_back(call);
    --in_flight;
  };
  {
    Progress progress(absl::StrFormat("propagation %.0f writes/s", o.write_rate), o.duration,
                      [&] {
                        const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
                        return absl::StrFormat("%.0f writes/s  errors %d",
                                               secs > 0 ? done.load() / secs : 0.0,
                                               failed.load());
                      });
    while (true) {
      const absl::Time now = absl::Now();
      if (now >= end) break;
      if (next < now - absl::Milliseconds(100)) next = now;  // skip missed slots
      while (next <= now && !free_calls.empty()) {
        WriteCall* call = free_calls.back();
        free_calls.pop_back();
        const int k = static_cast<int>(issued % keys.size());
        const int rev = static_cast<int>(issued / keys.size()) + 1;
        call->ctx = new grpc::ClientContext();
        AddAuth(*call->ctx, o.token);
        call->ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        call->req.set_namespace_id(ns);
        call->req.set_key(keys[static_cast<size_t>(k)]);
        call->req.set_value(MakeValue(k, rev, o.value_size));
        call->start = absl::Now();
        call->reader = stub->AsyncPut(call->ctx, call->req, &cq);
        call->reader->Finish(&call->resp, &call->status, call);
        ++in_flight;
        ++issued;
        next += interval;
      }
      // Sleep in the CQ until the next put is due (or a completion frees a
      // slot when the cap is reached).
      const absl::Time wake = free_calls.empty() ? end : std::min(next, end);
      void* tag;
      bool ok;
      grpc::CompletionQueue::NextStatus st = cq.AsyncNext(&tag, &ok, absl::ToChronoTime(wake));
      while (st == grpc::CompletionQueue::GOT_EVENT) {
        reap(tag, ok);
        st = cq.AsyncNext(&tag, &ok, std::chrono::system_clock::now());
      }
    }
  }
  stats.secs = absl::ToDoubleSeconds(absl::Now() - t0);
  // Drain the puts still in flight (they count: they were issued in time).
  while (in_flight > 0) {
    void* tag;
    bool ok;
    if (!cq.Next(&tag, &ok)) break;
    reap(tag, ok);
  }
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  return stats;
}

double R3(double v) { return std::round(v * 1000) / 1000; }

std::string Ms(double seconds) { return absl::StrFormat("%.3f ms", seconds * 1e3); }

}  // namespace

int RunPropagationWorkload(const Options& o) {
  const int num_keys = o.keys > 0 ? o.keys : 1000;
  if (!o.addr.empty()) {
    std::cerr << "kv-bench: propagation starts its own central and edges (it must read the "
                 "edges' /metrics); drop --addr\n";
    return 2;
  }
  if (o.central_bin.empty() || o.edge_bin.empty()) {
    std::cerr << "kv-bench: propagation needs --central_bin and --edge_bin\n";
    return 2;
  }
  if (o.edges < 1) {
    std::cerr << "kv-bench: --edges must be at least 1\n";
    return 2;
  }
  auto ws_or = Workspace::Create(o.keep_tmp);
  if (!ws_or.ok()) {
    Fail(ws_or.status());
    return 1;
  }
  const Workspace& ws = **ws_or;
  auto c = StartCentral(ws, o.central_bin);
  if (!c.ok()) {
    Fail(c.status());
    return 1;
  }
  std::unique_ptr<OwnedProcess> central = *std::move(c);
  const std::string central_addr = central->LocalAddr("grpc_port");
  std::vector<std::unique_ptr<OwnedProcess>> edges;
  std::vector<int> metrics_ports;
  for (int i = 0; i < o.edges; ++i) {
    auto e = StartEdge(ws, o.edge_bin, central_addr, i, -1,
                       o.cache_bytes > 0 ? o.cache_bytes : uint64_t{256} << 20);
    if (!e.ok()) {
      Fail(e.status());
      return 1;
    }
    int port = 0;
    if (!absl::SimpleAtoi((*e)->Field("metrics_port"), &port) || port <= 0) {
      std::cerr << "kv-bench: " << (*e)->name() << " wrote no metrics_port\n";
      return 1;
    }
    metrics_ports.push_back(port);
    edges.push_back(*std::move(e));
  }
  PrintContext(o, absl::StrFormat("propagation, 1 central + %d edges, unpinned", o.edges));
  int connected = 0;
  for (int port : metrics_ports) connected += WaitForEdgeStream(port, absl::Seconds(15)) ? 1 : 0;
  if (connected < o.edges) {
    std::cerr << "kv-bench: warning: " << o.edges - connected << " of " << o.edges
              << " edges have no invalidation stream after 15 s (does this kv-central serve "
                 "invalidation streams? it needs --heartbeat_interval)\n";
  }

  auto writer = NewStub(central_addr);
  absl::StatusOr<std::string> ns = CreateNamespace(*writer, o.token);
  if (!ns.ok()) {
    Fail(ns.status());
    return 1;
  }
  const std::vector<std::string> keys = MakeKeys(num_keys, o.key_size);
  if (absl::Status s = LoadKeys(*writer, *ns, keys, o.value_size, o.token); !s.ok()) {
    Fail(s);
    return 1;
  }
  for (const auto& edge : edges) {
    auto stub = NewStub(edge->LocalAddr("grpc_port"));
    if (absl::Status s = ReadAllOnce(*stub, *ns, keys, o.token); !s.ok()) {
      std::cerr << "kv-bench: " << edge->name() << ": ";
      Fail(s);
      return 1;
    }
  }
  // The load's own events (BulkPut) may still be arriving: the "before"
  // scrape is taken once two scrapes 200 ms apart agree (at most 10 s).
  std::vector<EdgeSnapshot> before;
  const absl::Time quiet_deadline = absl::Now() + absl::Seconds(10);
  while (true) {
    std::vector<EdgeSnapshot> snaps;
    for (int port : metrics_ports) {
      absl::StatusOr<EdgeSnapshot> snap = Scrape(port);
      if (!snap.ok()) {
        Fail(snap.status());
        return 1;
      }
      snaps.push_back(*std::move(snap));
    }
    bool same = before.size() == snaps.size();
    for (size_t i = 0; same && i < snaps.size(); ++i) {
      same = snaps[i].live.count == before[i].live.count &&
             snaps[i].replayed == before[i].replayed;
    }
    before = std::move(snaps);
    if (same || absl::Now() > quiet_deadline) break;
    absl::SleepFor(absl::Milliseconds(200));
  }

  WriteStats writes = PacedWrites(o, central_addr, *ns, keys);

  // Wait (up to --settle) until every edge has seen every acknowledged write.
  const double expected = static_cast<double>(writes.ok) * o.edges;
  absl::StatusOr<Totals> totals;
  const absl::Time settle_deadline = absl::Now() + o.settle;
  while (true) {
    totals = Delta(metrics_ports, before);
    if (!totals.ok()) break;
    if (totals->live.count + totals->replayed >= expected || absl::Now() > settle_deadline) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (!totals.ok()) {
    Fail(totals.status());
    return 1;
  }
  const PromHistogram& h = totals->live;
  bool p50_above = false, p99_above = false;
  const double p50 = h.Quantile(0.50, &p50_above);
  const double p99 = h.Quantile(0.99, &p99_above);
  const double max = h.MaxUpperBound();
  const double observed = h.count + totals->replayed;
  const double achieved = writes.secs > 0 ? static_cast<double>(writes.ok) / writes.secs : 0;
  long edge_rss_max = -1;
  for (const auto& e : edges) edge_rss_max = std::max(edge_rss_max, RssKb(e->pid()));
  const long central_rss = RssKb(central->pid());
  const uint64_t errors = writes.errors;
  if (writes.errors > 0) {
    std::cerr << "kv-bench: " << writes.errors << " puts failed; the first: "
              << writes.first_error << "\n";
  }

  if (o.json) {
    nlohmann::ordered_json j;
    j["name"] = "kv propagation";
    j["edges"] = o.edges;
    j["keys"] = num_keys;
    j["value_size"] = o.value_size;
    j["write_rate_target"] = o.write_rate;
    j["write_rate"] = std::round(achieved * 10) / 10;
    j["writes"] = writes.ok;
    j["put_p50_us"] = writes.latency_us.Percentile(50);
    j["put_p99_us"] = writes.latency_us.Percentile(99);
    j["events_expected"] = static_cast<uint64_t>(expected);
    j["events_observed"] = static_cast<uint64_t>(observed);
    j["events_live"] = static_cast<uint64_t>(h.count);
    j["events_replayed"] = static_cast<uint64_t>(totals->replayed);
    j["propagation_p50_ms"] = R3(p50 * 1e3);
    j["propagation_p99_ms"] = R3(p99 * 1e3);
    j["propagation_max_ms"] = R3(max * 1e3);
    j["propagation_quantiles_above_top_bucket"] = p50_above || p99_above;
    j["propagation_max_is_bucket_upper_bound"] = true;
    j["propagation_mean_ms"] = R3(h.count > 0 ? h.sum / h.count * 1e3 : 0.0);
    j["errors"] = errors;
    j["central_rss_kb"] = central_rss;
    j["edge_rss_kb_max"] = edge_rss_max;
    j["loadavg_before"] = R3(o.loadavg_before);
    j["baseline"] = "none";
    PrintJson(j);
  } else {
    std::cout << absl::StrFormat(
                     "kv propagation  edges=%d  writes %d in %.1f s = %.1f/s (target %.0f/s)  "
                     "put p50 %.0f us  p99 %.0f us  errors %d",
                     o.edges, writes.ok, writes.secs, achieved, o.write_rate,
                     writes.latency_us.Percentile(50), writes.latency_us.Percentile(99), errors)
              << "\n"
              << absl::StrFormat(
                     "  events observed %.0f of %.0f expected (%.0f live, %.0f replayed "
                     "after a reconnect)",
                     observed, expected, h.count, totals->replayed)
              << "\n"
              << absl::StrFormat(
                     "  propagation (edge-measured, summed over %d edges): p50 %s%s  p99 %s%s  "
                     "max <= %s (upper bound of the highest non-empty bucket)  mean %s",
                     o.edges, p50_above ? "> " : "", Ms(p50), p99_above ? "> " : "", Ms(p99),
                     std::isinf(max) ? "+Inf" : Ms(max),
                     Ms(h.count > 0 ? h.sum / h.count : 0))
              << "\n"
              << "  (commit and apply times in microseconds; quantiles are interpolated "
                 "within buckets)\n"
              << absl::StrFormat("  rss: central %.1f MiB, largest edge %.1f MiB",
                                 central_rss / 1024.0, edge_rss_max / 1024.0)
              << "\n"
              << "baseline: none" << std::endl;
  }
  if (errors > 0) return 1;
  if (writes.ok > 0 && observed <= 0) {
    std::cerr << "kv-bench: no edge observed any write: invalidations do not propagate\n";
    return 1;
  }
  if (observed < expected) {
    std::cerr << absl::StrFormat(
        "kv-bench: warning: %.0f events not observed within --settle %s\n", expected - observed,
        absl::FormatDuration(o.settle));
  }
  return 0;
}

}  // namespace kv::bench
