#include "common/request_metrics.h"

#include <utility>

#include "absl/time/clock.h"
#include "common/grpc_code_name.h"

namespace kv {
namespace {

constexpr absl::string_view kOpNames[] = {
    "create_namespace", "list_namespaces", "get_namespace", "rename_namespace",
    "delete_namespace", "get",             "put",           "delete",
    "list",             "bulk_put",        "bulk_delete",   "bulk_get",
    "other"};

prometheus::Histogram::BucketBoundaries DurationBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
}

}  // namespace

RequestMetrics::RequestMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("kv_requests_total")
                    .Help("Client API requests by operation and status code")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("kv_request_duration_seconds")
                     .Help("Client API request duration by operation")
                     .Register(registry)) {}

int RequestMetrics::OpIndex(absl::string_view op) {
  static_assert(sizeof(kOpNames) / sizeof(kOpNames[0]) == kOps);
  for (int i = 0; i < kOps; ++i) {
    if (kOpNames[i] == op) return i;
  }
  return kOps - 1;
}

void RequestMetrics::Record(absl::string_view op, grpc::StatusCode code,
                            absl::Duration duration) {
  Record(OpIndex(op), code, duration);
}

void RequestMetrics::Record(int op_index, grpc::StatusCode code, absl::Duration duration) {
  if (op_index < 0 || op_index >= kOps) op_index = kOps - 1;
  int code_index = static_cast<int>(code);
  if (code_index < 0 || code_index >= kCodes) code_index = static_cast<int>(grpc::StatusCode::UNKNOWN);
  prometheus::Counter* counter = counters_[op_index][code_index].load(std::memory_order_acquire);
  prometheus::Histogram* histogram = histograms_[op_index].load(std::memory_order_acquire);
  if (counter == nullptr || histogram == nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string name(kOpNames[op_index]);
    counter = &requests_.Add(
        {{"op", name}, {"code", GrpcCodeName(static_cast<grpc::StatusCode>(code_index))}});
    histogram = &durations_.Add({{"op", name}}, DurationBuckets());
    counters_[op_index][code_index].store(counter, std::memory_order_release);
    histograms_[op_index].store(histogram, std::memory_order_release);
  }
  counter->Increment();
  histogram->Observe(absl::ToDoubleSeconds(duration));
}

}  // namespace kv
