#include "tools/bench/prom_scrape.h"

#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kv::bench {

namespace {

// The value of the first sample `name` (whatever its labels).
std::optional<double> FirstValue(const MetricsSnapshot& snapshot, absl::string_view name) {
  for (const MetricSample& sample : snapshot.samples()) {
    if (sample.name == name) return sample.value;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<PromHistogram> ParseHistogram(absl::string_view text, absl::string_view name) {
  absl::StatusOr<MetricsSnapshot> snapshot = MetricsSnapshot::Parse(text);
  if (!snapshot.ok()) return snapshot.status();
  absl::StatusOr<std::vector<HistogramBucket>> buckets = snapshot->Histogram(name);
  if (absl::IsNotFound(buckets.status()))
    return absl::NotFoundError(absl::StrCat("histogram ", name, " not in the metrics"));
  if (!buckets.ok()) return buckets.status();
  PromHistogram h;
  for (const HistogramBucket& bucket : *buckets) {
    h.le.push_back(bucket.le);
    h.cumulative.push_back(bucket.cumulative_count);
  }
  if (!std::isinf(h.le.back())) {
    return absl::InvalidArgumentError(absl::StrCat("histogram ", name, " has no +Inf bucket"));
  }
  h.sum = FirstValue(*snapshot, absl::StrCat(name, "_sum")).value_or(0);
  h.count = FirstValue(*snapshot, absl::StrCat(name, "_count")).value_or(h.cumulative.back());
  return h;
}

absl::StatusOr<double> ParseSample(absl::string_view text, absl::string_view name) {
  absl::StatusOr<MetricsSnapshot> snapshot = MetricsSnapshot::Parse(text);
  if (!snapshot.ok()) return snapshot.status();
  if (std::optional<double> value = FirstValue(*snapshot, name)) return *value;
  return absl::NotFoundError(absl::StrCat("sample ", name, " not in the metrics"));
}

absl::StatusOr<PromHistogram> PromHistogram::Minus(const PromHistogram& before) const {
  if (before.empty()) return *this;
  if (before.le != le) return absl::InvalidArgumentError("histogram bounds differ");
  PromHistogram d = *this;
  for (size_t i = 0; i < le.size(); ++i) d.cumulative[i] -= before.cumulative[i];
  d.count -= before.count;
  d.sum -= before.sum;
  return d;
}

absl::Status PromHistogram::Add(const PromHistogram& other) {
  if (other.empty()) return absl::OkStatus();
  if (empty()) {
    *this = other;
    return absl::OkStatus();
  }
  if (other.le != le) return absl::InvalidArgumentError("histogram bounds differ");
  for (size_t i = 0; i < le.size(); ++i) cumulative[i] += other.cumulative[i];
  count += other.count;
  sum += other.sum;
  return absl::OkStatus();
}

double PromHistogram::Quantile(double q, bool* above) const {
  if (above != nullptr) *above = false;
  if (empty() || cumulative.back() <= 0) return 0;
  const double rank = q * cumulative.back();
  for (size_t i = 0; i < le.size(); ++i) {
    if (cumulative[i] < rank) continue;
    const double lower = i == 0 ? 0 : le[i - 1];
    const double below = i == 0 ? 0 : cumulative[i - 1];
    if (std::isinf(le[i])) {
      if (above != nullptr) *above = true;
      return lower;
    }
    const double in_bucket = cumulative[i] - below;
    if (in_bucket <= 0) return le[i];
    return lower + (le[i] - lower) * (rank - below) / in_bucket;
  }
  return le.size() >= 2 ? le[le.size() - 2] : 0;
}

double PromHistogram::MaxUpperBound() const {
  for (size_t i = le.size(); i-- > 0;) {
    const double below = i == 0 ? 0 : cumulative[i - 1];
    if (cumulative[i] - below > 0) return le[i];
  }
  return 0;
}

bool WaitForEdgeStream(int metrics_port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<std::string> text = HttpGet(metrics_port, "/metrics");
    if (text.ok()) {
      absl::StatusOr<double> connected = ParseSample(*text, "kv_stream_connected");
      if (connected.ok() && *connected >= 1) return true;
    }
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace kv::bench
