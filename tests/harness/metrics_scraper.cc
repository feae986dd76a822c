#include "tests/harness/metrics_scraper.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace kv::testing {
namespace {

// Closes a descriptor on every path.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits until `fd` is ready for `events` or `deadline` passes.
absl::Status PollUntil(int fd, short events, absl::Time deadline, absl::string_view what) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat("HTTP GET: timed out while ", what));
    }
    pollfd p{fd, events, 0};
    const int ms = static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(left) + 1));
    const int r = poll(&p, 1, ms);
    if (r > 0) return absl::OkStatus();
    if (r < 0 && errno != EINTR) {
      return absl::InternalError(
          absl::StrCat("HTTP GET: poll while ", what, ": ", strerror(errno)));
    }
  }
}

absl::StatusOr<std::string> DecodeChunked(absl::string_view body) {
  std::string out;
  while (true) {
    const size_t eol = body.find("\r\n");
    if (eol == absl::string_view::npos) return absl::InternalError("truncated chunk size");
    absl::string_view size_text = body.substr(0, eol);
    size_text = size_text.substr(0, size_text.find(';'));  // chunk extensions
    uint64_t size = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(size_text), &size)) {
      return absl::InternalError(absl::StrCat("bad chunk size \"", size_text, "\""));
    }
    body.remove_prefix(eol + 2);
    if (size == 0) return out;
    if (body.size() < size + 2) return absl::InternalError("truncated chunk");
    out.append(body.data(), size);
    body.remove_prefix(size + 2);
  }
}

bool ParseDouble(absl::string_view text, double* out) {
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
    if (!ParseDouble(value_text, &sample.value)) {
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
    if (le == sample.labels.end() || !ParseDouble(le->second, &bucket.le)) {
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

absl::StatusOr<std::string> HttpGet(int port, absl::string_view path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(
          absl::StrCat("connect 127.0.0.1:", port, ": ", strerror(errno)));
    }
    if (absl::Status s = PollUntil(fd.get(), POLLOUT, deadline, "connecting"); !s.ok()) return s;
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      return absl::UnavailableError(absl::StrCat("connect 127.0.0.1:", port, ": ", strerror(err)));
    }
  }
  // HTTP/1.0 without keep-alive: the server closes after the response.
  const std::string request = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1:", port,
                                           "\r\nAccept: text/plain\r\nConnection: close\r\n\r\n");
  size_t sent = 0;
  while (sent < request.size()) {
    if (absl::Status s = PollUntil(fd.get(), POLLOUT, deadline, "sending"); !s.ok()) return s;
    const ssize_t n = send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: ", strerror(errno)));
    }
    sent += static_cast<size_t>(n);
  }
  std::string response;
  char buf[16384];
  while (true) {
    if (absl::Status s = PollUntil(fd.get(), POLLIN, deadline, "reading the response"); !s.ok()) {
      return s;
    }
    const ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("recv: ", strerror(errno)));
    }
    response.append(buf, static_cast<size_t>(n));
  }

  const size_t header_end = response.find("\r\n\r\n");
  if (header_end == std::string::npos) {
    return absl::InternalError(
        absl::StrCat("HTTP GET ", path, ": no header end in \"", response.substr(0, 200), "\""));
  }
  absl::string_view head(response.data(), header_end);
  absl::string_view body(response.data() + header_end + 4, response.size() - header_end - 4);
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> status_line = absl::StrSplit(lines[0], ' ');
  if (status_line.size() < 2 || status_line[1] != "200") {
    return absl::InternalError(
        absl::StrCat("HTTP GET ", path, ": \"", lines[0], "\"; body: ", body.substr(0, 200)));
  }
  bool chunked = false;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::pair<absl::string_view, absl::string_view> header =
        absl::StrSplit(lines[i], absl::MaxSplits(':', 1));
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header.first));
    const absl::string_view value = absl::StripAsciiWhitespace(header.second);
    if (name == "transfer-encoding" && absl::StrContains(absl::AsciiStrToLower(value), "chunked")) {
      chunked = true;
    } else if (name == "content-length") {
      size_t length = 0;
      if (absl::SimpleAtoi(value, &length) && length < body.size()) body = body.substr(0, length);
    } else if (name == "content-encoding" && !absl::EqualsIgnoreCase(value, "identity")) {
      return absl::InternalError(
          absl::StrCat("HTTP GET ", path, ": unasked content-encoding ", value));
    }
  }
  if (chunked) return DecodeChunked(body);
  return std::string(body);
}

absl::StatusOr<MetricsSnapshot> ScrapeMetrics(int port, absl::Duration timeout) {
  absl::StatusOr<std::string> text = HttpGet(port, "/metrics", timeout);
  if (!text.ok()) return text.status();
  return MetricsSnapshot::Parse(*text);
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
