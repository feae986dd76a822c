#include "common/prometheus_text.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kv {

bool ParsePrometheusNumber(absl::string_view text, double* out) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "+inf" || lower == "inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "-inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (lower == "nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  return absl::SimpleAtod(text, out);
}

namespace {


// Parses `{a="x",b="y"}` at the start of `*rest`, consuming it.
absl::Status ParseLabels(absl::string_view* rest, MetricLabels* labels) {
  absl::string_view s = *rest;
  s.remove_prefix(1);  // '{'
  while (true) {
    s = absl::StripLeadingAsciiWhitespace(s);
    if (absl::ConsumePrefix(&s, "}")) break;
    const size_t eq = s.find('=');
    if (eq == absl::string_view::npos) return absl::InvalidArgumentError("label without '='");
    std::string name(absl::StripAsciiWhitespace(s.substr(0, eq)));
    s.remove_prefix(eq + 1);
    s = absl::StripLeadingAsciiWhitespace(s);
    if (!absl::ConsumePrefix(&s, "\"")) return absl::InvalidArgumentError("unquoted label value");
    std::string value;
    bool closed = false;
    while (!s.empty()) {
      const char c = s.front();
      s.remove_prefix(1);
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\' && !s.empty()) {
        const char e = s.front();
        s.remove_prefix(1);
        value.push_back(e == 'n' ? '\n' : e);
      } else {
        value.push_back(c);
      }
    }
    if (!closed) return absl::InvalidArgumentError("unterminated label value");
    (*labels)[std::move(name)] = std::move(value);
    s = absl::StripLeadingAsciiWhitespace(s);
    absl::ConsumePrefix(&s, ",");
  }
  *rest = s;
  return absl::OkStatus();
}

bool HasLabels(const MetricSample& sample, const MetricLabels& labels) {
  for (const auto& [name, value] : labels) {
    auto it = sample.labels.find(name);
    if (it == sample.labels.end() || it->second != value) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<MetricsSnapshot> MetricsSnapshot::Parse(absl::string_view text) {
  MetricsSnapshot snapshot;
  snapshot.text_ = std::string(text);
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    MetricSample sample;
    const size_t name_end = line.find_first_of("{ \t");
    if (name_end == absl::string_view::npos || name_end == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics line ", line_number, ": no value: \"", line, "\""));
    }
    sample.name = std::string(line.substr(0, name_end));
    absl::string_view rest = line.substr(name_end);
    if (!rest.empty() && rest.front() == '{') {
      if (absl::Status s = ParseLabels(&rest, &sample.labels); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("metrics line ", line_number, ": ", s.message(), ": \"", line, "\""));
      }
    }
    rest = absl::StripLeadingAsciiWhitespace(rest);
    // An optional timestamp follows the value.
    absl::string_view value_text = rest.substr(0, rest.find_first_of(" \t"));
    if (!ParsePrometheusNumber(value_text, &sample.value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metrics line ", line_number, ": bad value \"", value_text, "\""));
    }
    snapshot.samples_.push_back(std::move(sample));
  }
  return snapshot;
}

absl::StatusOr<double> MetricsSnapshot::Value(absl::string_view name,
                                              const MetricLabels& labels) const {
  const MetricSample* found = nullptr;
  for (const MetricSample& sample : samples_) {
    if (sample.name != name || !HasLabels(sample, labels)) continue;
    if (found != nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("several samples of ", name, " match; give more labels"));
    }
    found = &sample;
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("no sample of ", name, " in the scrape"));
  }
  return found->value;
}

absl::StatusOr<std::vector<HistogramBucket>> MetricsSnapshot::Histogram(
    absl::string_view name, const MetricLabels& labels) const {
  const std::string bucket_name = absl::StrCat(name, "_bucket");
  std::vector<HistogramBucket> buckets;
  for (const MetricSample& sample : samples_) {
    if (sample.name != bucket_name || !HasLabels(sample, labels)) continue;
    auto le = sample.labels.find("le");
    HistogramBucket bucket;
    if (le == sample.labels.end() || !ParsePrometheusNumber(le->second, &bucket.le)) {
      return absl::InvalidArgumentError(absl::StrCat(bucket_name, " sample without a valid le"));
    }
    bucket.cumulative_count = sample.value;
    buckets.push_back(bucket);
  }
  if (buckets.empty()) {
    return absl::NotFoundError(absl::StrCat("no ", bucket_name, " samples in the scrape"));
  }
  std::sort(buckets.begin(), buckets.end(),
            [](const HistogramBucket& a, const HistogramBucket& b) { return a.le < b.le; });
  return buckets;
}

}  // namespace kv
