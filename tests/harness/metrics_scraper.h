#ifndef KV_TESTS_HARNESS_METRICS_SCRAPER_H_
#define KV_TESTS_HARNESS_METRICS_SCRAPER_H_

// Reads a node's Prometheus /metrics page the way Prometheus does (a plain
// HTTP GET) and picks values out of the text exposition format:
//
//   ASSERT_OK_AND_ASSIGN(MetricsSnapshot m, ScrapeMetrics(edge->metrics_port()));
//   ASSERT_OK_AND_ASSIGN(double hits, m.Value("kv_cache_hits_total"));
//   ASSERT_OK_AND_ASSIGN(auto buckets, m.Histogram("kv_propagation_latency_seconds"));
//   double p99 = HistogramQuantile(buckets, 0.99);

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/loopback_http.h"
#include "common/prometheus_text.h"

namespace kv::testing {

// The parsed scrape (common/prometheus_text.h).
using ::kv::HistogramBucket;
using ::kv::MetricLabels;
using ::kv::MetricSample;
using ::kv::MetricsSnapshot;

// GET over loopback: kv::HttpGet (common/loopback_http.h).
using ::kv::HttpGet;

// HttpGet(port, "/metrics") parsed. With `tls_ca` (a node with TLS serves
// its metrics over HTTPS) or a `token` (a node with a tokens file wants a
// metrics token): fetched by curl, verified against that CA file, sending
// `Authorization: Bearer <token>`.
absl::StatusOr<MetricsSnapshot> ScrapeMetrics(int port, absl::Duration timeout = absl::Seconds(5),
                                              const std::string& tls_ca = "",
                                              const std::string& token = "");

// The observations in each bucket of `after` that were not yet in `before`
// (both from Histogram() of the same metric with the same bounds), i.e. the
// histogram of what was observed between two scrapes. Buckets of `after`
// missing from `before` count from 0.
std::vector<HistogramBucket> HistogramDelta(const std::vector<HistogramBucket>& before,
                                            const std::vector<HistogramBucket>& after);

// Total observations (the +Inf bucket's count; 0 when empty).
double HistogramCount(const std::vector<HistogramBucket>& buckets);

// Estimates the q-quantile (0 <= q <= 1) as Prometheus' histogram_quantile
// does: linear interpolation inside the bucket where the rank falls (the
// first bucket's lower bound is 0); a rank in the +Inf bucket gives the
// largest finite bound. NaN when the histogram has no observations.
double HistogramQuantile(const std::vector<HistogramBucket>& buckets, double q);

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_METRICS_SCRAPER_H_
