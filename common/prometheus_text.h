#ifndef KV_COMMON_PROMETHEUS_TEXT_H_
#define KV_COMMON_PROMETHEUS_TEXT_H_

// The Prometheus text exposition format (0.0.4), parsed into samples:
// what the tests, kv-bench and `kvctl dev` read from a node's /metrics.
//
//   ASSERT_OK_AND_ASSIGN(MetricsSnapshot m, MetricsSnapshot::Parse(text));
//   ASSERT_OK_AND_ASSIGN(double hits, m.Value("kv_cache_hits_total"));
//   ASSERT_OK_AND_ASSIGN(auto buckets, m.Histogram("kv_propagation_latency_seconds"));

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv {

// Label name → value.
using MetricLabels = std::map<std::string, std::string>;

// One line of the exposition: `name{labels} value`.
struct MetricSample {
  std::string name;
  MetricLabels labels;
  double value = 0;
};

// One cumulative bucket of a histogram: the count of observations <= le
// (le is +inf for the last one).
struct HistogramBucket {
  double le = 0;
  double cumulative_count = 0;
};

// The samples of one scrape. Immutable; copyable.
class MetricsSnapshot {
 public:
  // Parses the Prometheus text format (0.0.4). INVALID_ARGUMENT, naming the
  // line, when a sample line cannot be parsed.
  static absl::StatusOr<MetricsSnapshot> Parse(absl::string_view text);

  // The value of the one sample named `name` that carries every label in
  // `labels` (it may carry more). NOT_FOUND when none does;
  // FAILED_PRECONDITION when several do (give more labels).
  absl::StatusOr<double> Value(absl::string_view name, const MetricLabels& labels = {}) const;

  // The `<name>_bucket` samples carrying `labels` (besides `le`), sorted by
  // `le`. NOT_FOUND when there are none.
  absl::StatusOr<std::vector<HistogramBucket>> Histogram(absl::string_view name,
                                                         const MetricLabels& labels = {}) const;

  const std::vector<MetricSample>& samples() const { return samples_; }
  const std::string& text() const { return text_; }

 private:
  std::vector<MetricSample> samples_;
  std::string text_;
};

// A number as the format writes it ("+Inf", "-Inf", "NaN" included).
bool ParsePrometheusNumber(absl::string_view text, double* out);

}  // namespace kv

#endif  // KV_COMMON_PROMETHEUS_TEXT_H_
