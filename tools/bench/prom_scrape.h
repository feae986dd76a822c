#ifndef KV_TOOLS_BENCH_PROM_SCRAPE_H_
#define KV_TOOLS_BENCH_PROM_SCRAPE_H_

// Reading an edge's Prometheus /metrics: a plain HTTP/1.0 GET over a socket,
// the text exposition format's histogram buckets and plain samples, and
// quantiles estimated from bucket counts.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/loopback_http.h"
#include "common/prometheus_text.h"

namespace kv::bench {

// GET http://127.0.0.1:port/path; the body of a 200 response.
using ::kv::HttpGet;

// A histogram without labels: cumulative counts per upper bound (`le`),
// ascending, the last being +Inf.
struct PromHistogram {
  std::vector<double> le;
  std::vector<double> cumulative;
  double count = 0;  // cumulative.back() when buckets are present
  double sum = 0;

  bool empty() const { return le.empty(); }
  // this - before (same bounds required).
  absl::StatusOr<PromHistogram> Minus(const PromHistogram& before) const;
  // Adds `other` (same bounds required; an empty `this` takes its bounds).
  absl::Status Add(const PromHistogram& other);
  // The q-quantile (0 < q <= 1) by linear interpolation within the bucket
  // that holds it (the first bucket spans [0, le0]). If it falls in the +Inf
  // bucket, returns the highest finite bound and sets *above = true.
  double Quantile(double q, bool* above = nullptr) const;
  // The upper bound of the highest non-empty bucket (+Inf possible); 0 if
  // the histogram holds no observations.
  double MaxUpperBound() const;
};

// Parses histogram `name` (its `name_bucket`, `name_sum`, `name_count`
// samples) from a text exposition.
absl::StatusOr<PromHistogram> ParseHistogram(absl::string_view text, absl::string_view name);
// The value of the first sample `name` (whatever its labels), or NOT_FOUND.
absl::StatusOr<double> ParseSample(absl::string_view text, absl::string_view name);

// Polls an edge's /metrics until kv_stream_connected is 1 (true) or the
// timeout passes (false).
bool WaitForEdgeStream(int metrics_port, absl::Duration timeout);

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_PROM_SCRAPE_H_
