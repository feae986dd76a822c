#include "common/loopback_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace kv {
namespace {

class ScopedFd {
 public:
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status PollUntil(int fd, short events, absl::Time deadline, absl::string_view what) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(absl::StrCat("HTTP: timed out while ", what));
    }
    pollfd p{fd, events, 0};
    const int ms = static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(left) + 1));
    const int r = poll(&p, 1, ms);
    if (r > 0) return absl::OkStatus();
    if (r < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("HTTP: poll while ", what, ": ", strerror(errno)));
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

}  // namespace

absl::StatusOr<HttpResult> HttpRequest(int port, absl::string_view method, absl::string_view path,
                                       absl::string_view body, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const std::string where = absl::StrCat(method, " 127.0.0.1:", port, path);
  ScopedFd fd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(absl::StrCat(where, ": connect: ", strerror(errno)));
    }
    if (absl::Status s = PollUntil(fd.get(), POLLOUT, deadline, "connecting"); !s.ok()) return s;
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return absl::UnavailableError(absl::StrCat(where, ": connect: ", strerror(err)));
  }
  std::string request = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                                     "\r\nConnection: close\r\nContent-Length: ", body.size());
  if (!body.empty()) absl::StrAppend(&request, "\r\nContent-Type: application/json");
  absl::StrAppend(&request, "\r\n\r\n", body);
  size_t sent = 0;
  while (sent < request.size()) {
    if (absl::Status s = PollUntil(fd.get(), POLLOUT, deadline, "sending"); !s.ok()) return s;
    const ssize_t n = send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat(where, ": send: ", strerror(errno)));
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
      return absl::UnavailableError(absl::StrCat(where, ": recv: ", strerror(errno)));
    }
    response.append(buf, static_cast<size_t>(n));
  }
  const size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return absl::InternalError(
        absl::StrCat(where, ": no header end in \"", response.substr(0, 200), "\""));
  }
  const absl::string_view head(response.data(), head_end);
  absl::string_view payload = absl::string_view(response).substr(head_end + 4);
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> status_line = absl::StrSplit(lines[0], ' ');
  HttpResult result;
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &result.status)) {
    return absl::InternalError(
        absl::StrCat(where, ": bad status line in \"", response.substr(0, 200), "\""));
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
      if (absl::SimpleAtoi(value, &length) && length < payload.size()) {
        payload = payload.substr(0, length);
      }
    } else if (name == "content-encoding" && !absl::EqualsIgnoreCase(value, "identity")) {
      return absl::InternalError(absl::StrCat(where, ": unasked content-encoding ", value));
    }
  }
  if (chunked) {
    absl::StatusOr<std::string> decoded = DecodeChunked(payload);
    if (!decoded.ok()) {
      return absl::InternalError(absl::StrCat(where, ": ", decoded.status().message()));
    }
    result.body = *std::move(decoded);
  } else {
    result.body = std::string(payload);
  }
  return result;
}

absl::StatusOr<std::string> HttpGet(int port, absl::string_view path, absl::Duration timeout) {
  absl::StatusOr<HttpResult> result = HttpRequest(port, "GET", path, "", timeout);
  if (!result.ok()) return result.status();
  if (result->status != 200) {
    return absl::InternalError(absl::StrCat("HTTP GET ", path, ": status ", result->status,
                                            "; body: ", result->body.substr(0, 200)));
  }
  return std::move(result->body);
}

}  // namespace kv
