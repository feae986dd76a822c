#ifndef KV_COMMON_REQUEST_METRICS_H_
#define KV_COMMON_REQUEST_METRICS_H_

#include <grpcpp/support/status.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kv {

// Client-API request metrics of a node (DESIGN §7), by operation and gRPC
// status code name: kv_requests_total{op,code} and
// kv_request_duration_seconds{op} (buckets 50 µs .. 60 s). The operation is
// the kv.v1.Kv method in snake case ("get", "bulk_put", ...); HTTP front ends
// record the operation they map to. The gRPC servers (edge/ and central/
// async_kv_server) record each call themselves: a server interceptor would
// add completion-queue round trips, each a thread hand-off. Thread-safe.
class RequestMetrics {
 public:
  explicit RequestMetrics(prometheus::Registry& registry);

  // Unknown operations are recorded as "other". Lock-free after the first
  // call of each (op, code).
  void Record(absl::string_view op, grpc::StatusCode code, absl::Duration duration);
  // The same by OpIndex(op), without comparing names: for servers that
  // resolve a method's operation once, not per call.
  void Record(int op_index, grpc::StatusCode code, absl::Duration duration);
  // The index Record takes for `op`; unknown operations get "other"'s.
  static int OpIndex(absl::string_view op);

 private:
  static constexpr int kCodes = 17;
  // The kv.v1.Kv operations, bulk_get (HTTP) and "other".
  static constexpr int kOps = 13;

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  std::mutex mu_;  // serializes creating series
  std::atomic<prometheus::Counter*> counters_[kOps][kCodes] = {};
  std::atomic<prometheus::Histogram*> histograms_[kOps] = {};
};

}  // namespace kv

#endif  // KV_COMMON_REQUEST_METRICS_H_
