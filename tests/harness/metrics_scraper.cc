#include "tests/harness/metrics_scraper.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/loopback_http.h"
#include "common/prometheus_text.h"
#include "tests/harness/process.h"
#include "tests/harness/temp_dir.h"

namespace kv::testing {

absl::StatusOr<MetricsSnapshot> ScrapeMetrics(int port, absl::Duration timeout,
                                              const std::string& tls_ca,
                                              const std::string& token) {
  if (tls_ca.empty() && token.empty()) {
    absl::StatusOr<std::string> text = HttpGet(port, "/metrics", timeout);
    if (!text.ok()) return text.status();
    return MetricsSnapshot::Parse(*text);
  }
  const std::string url =
      absl::StrCat(tls_ca.empty() ? "http" : "https", "://127.0.0.1:", port, "/metrics");
  std::vector<std::string> argv = {
      "/usr/bin/curl", "-sS", "--fail", "--max-time",
      absl::StrCat(std::max<int64_t>(1, absl::ToInt64Seconds(timeout)))};
  if (!tls_ca.empty()) argv.insert(argv.end(), {"--cacert", tls_ca});
  if (!token.empty()) argv.insert(argv.end(), {"-H", absl::StrCat("Authorization: Bearer ", token)});
  argv.push_back(url);
  // curl's capture files: beside the CA, or in a temporary directory of this
  // process's own (RunCommand's names are unique per process only), removed
  // at exit.
  static const absl::StatusOr<std::unique_ptr<TempDir>> own_dir = TempDir::Create("kv-scrape");
  if (tls_ca.empty() && !own_dir.ok()) return own_dir.status();
  const std::string scratch =
      tls_ca.empty() ? (*own_dir)->path() : std::filesystem::path(tls_ca).parent_path().string();
  absl::StatusOr<CommandResult> fetched = RunCommand(argv, scratch, {}, "", timeout + absl::Seconds(5));
  if (!fetched.ok()) return fetched.status();
  if (!fetched->status.Exited(0)) {
    return absl::UnavailableError(absl::StrCat("curl ", url, ": ", fetched->stderr_data));
  }
  return MetricsSnapshot::Parse(fetched->stdout_data);
}

std::vector<HistogramBucket> HistogramDelta(const std::vector<HistogramBucket>& before,
                                            const std::vector<HistogramBucket>& after) {
  std::vector<HistogramBucket> delta = after;
  for (HistogramBucket& bucket : delta) {
    for (const HistogramBucket& old : before) {
      if (old.le == bucket.le) {
        bucket.cumulative_count -= old.cumulative_count;
        break;
      }
    }
  }
  return delta;
}

double HistogramCount(const std::vector<HistogramBucket>& buckets) {
  return buckets.empty() ? 0 : buckets.back().cumulative_count;
}

double HistogramQuantile(const std::vector<HistogramBucket>& buckets, double q) {
  const double total = HistogramCount(buckets);
  if (buckets.empty() || !(total > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double rank = std::clamp(q, 0.0, 1.0) * total;
  double lower = 0;
  double below = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    const HistogramBucket& b = buckets[i];
    if (b.cumulative_count >= rank && b.cumulative_count > below) {
      if (std::isinf(b.le)) return lower;  // the largest finite bound
      const double in_bucket = b.cumulative_count - below;
      return lower + (b.le - lower) * (rank - below) / in_bucket;
    }
    if (!std::isinf(b.le)) lower = b.le;
    below = b.cumulative_count;
  }
  return lower;
}

}  // namespace kv::testing
