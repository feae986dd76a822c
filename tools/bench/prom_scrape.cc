#include "tools/bench/prom_scrape.h"

#include <cmath>
#include <limits>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace kv::bench {
namespace {

bool ParseDouble(absl::string_view s, double* out) {
  s = absl::StripAsciiWhitespace(s);
  if (s == "+Inf" || s == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (s == "NaN") {
    *out = std::nan("");
    return true;
  }
  return absl::SimpleAtod(s, out);
}

}  // namespace

absl::StatusOr<PromHistogram> ParseHistogram(absl::string_view text, absl::string_view name) {
  const std::string bucket_prefix = absl::StrCat(name, "_bucket{");
  const std::string sum_prefix = absl::StrCat(name, "_sum");
  const std::string count_prefix = absl::StrCat(name, "_count");
  std::map<double, double> buckets;
  PromHistogram h;
  bool have_count = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    if (absl::StartsWith(line, bucket_prefix)) {
      const size_t le_pos = line.find("le=\"");
      const size_t close = line.find('}');
      if (le_pos == absl::string_view::npos || close == absl::string_view::npos) continue;
      const size_t le_end = line.find('"', le_pos + 4);
      double le, value;
      if (le_end == absl::string_view::npos ||
          !ParseDouble(line.substr(le_pos + 4, le_end - le_pos - 4), &le)) {
        return absl::InvalidArgumentError(absl::StrCat("bad bucket line: ", line));
      }
      absl::string_view rest = absl::StripAsciiWhitespace(line.substr(close + 1));
      rest = rest.substr(0, rest.find(' '));  // drop a timestamp
      if (!ParseDouble(rest, &value)) {
        return absl::InvalidArgumentError(absl::StrCat("bad bucket value: ", line));
      }
      buckets[le] = value;
    } else if (absl::StartsWith(line, sum_prefix) || absl::StartsWith(line, count_prefix)) {
      const bool is_sum = absl::StartsWith(line, sum_prefix);
      absl::string_view rest = line.substr(is_sum ? sum_prefix.size() : count_prefix.size());
      if (!rest.empty() && rest[0] == '{') rest = rest.substr(rest.find('}') + 1);
      if (rest.empty() || rest[0] != ' ') continue;  // another metric sharing the prefix
      rest = absl::StripAsciiWhitespace(rest);
      rest = rest.substr(0, rest.find(' '));
      double value;
      if (!ParseDouble(rest, &value)) {
        return absl::InvalidArgumentError(absl::StrCat("bad sample: ", line));
      }
      if (is_sum) {
        h.sum = value;
      } else {
        h.count = value;
        have_count = true;
      }
    }
  }
  if (buckets.empty()) {
    return absl::NotFoundError(absl::StrCat("histogram ", name, " not in the metrics"));
  }
  for (const auto& [le, value] : buckets) {
    h.le.push_back(le);
    h.cumulative.push_back(value);
  }
  if (!std::isinf(h.le.back())) {
    return absl::InvalidArgumentError(absl::StrCat("histogram ", name, " has no +Inf bucket"));
  }
  if (!have_count) h.count = h.cumulative.back();
  return h;
}

absl::StatusOr<double> ParseSample(absl::string_view text, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, name)) continue;
    if (!line.empty() && line[0] == '{') {
      const size_t close = line.find('}');
      if (close == absl::string_view::npos) continue;
      line = line.substr(close + 1);
    }
    if (line.empty() || line[0] != ' ') continue;
    line = absl::StripAsciiWhitespace(line);
    double value;
    if (ParseDouble(line.substr(0, line.find(' ')), &value)) return value;
  }
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
