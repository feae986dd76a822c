#include "tests/harness/raw_http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace kv::testing {
namespace {

absl::StatusOr<int> Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int err = errno;
    close(fd);
    return absl::UnavailableError(absl::StrCat("connect to port ", port, ": ", strerror(err)));
  }
  return fd;
}

absl::Status SendAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: ", strerror(errno)));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Reads into `buffer` until `done(buffer)` or EOF. Returns true on EOF.
template <typename Done>
absl::StatusOr<bool> ReadSome(int fd, std::string& buffer, absl::Time deadline, Done done) {
  char chunk[65536];
  while (!done(buffer)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("no response in time");
    pollfd p{fd, POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) return true;
      return absl::UnavailableError(absl::StrCat("recv: ", strerror(errno)));
    }
    if (n == 0) return true;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return false;
}

absl::StatusOr<HttpReply> ReadReply(int fd, absl::Time deadline) {
  std::string buffer;
  auto have_head = [](const std::string& b) { return b.find("\r\n\r\n") != std::string::npos; };
  absl::StatusOr<bool> eof = ReadSome(fd, buffer, deadline, have_head);
  if (!eof.ok()) return eof.status();
  const size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    return absl::UnavailableError(absl::StrCat("connection closed without a response (",
                                               buffer.size(), " bytes)"));
  }
  HttpReply reply;
  std::vector<absl::string_view> lines =
      absl::StrSplit(absl::string_view(buffer).substr(0, head_end), "\r\n");
  std::vector<absl::string_view> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 || !absl::SimpleAtoi(status_line[1], &reply.status)) {
    return absl::InternalError(absl::StrCat("bad status line: ", lines[0]));
  }
  if (status_line.size() == 3) reply.reason = std::string(status_line[2]);
  int64_t content_length = -1;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(lines[i], absl::MaxSplits(':', 1));
    std::string name = absl::AsciiStrToLower(kv.first);
    std::string value(absl::StripAsciiWhitespace(kv.second));
    if (name == "content-length") (void)absl::SimpleAtoi(value, &content_length);
    reply.headers.emplace_back(std::move(name), std::move(value));
  }
  std::string body = buffer.substr(head_end + 4);
  if (content_length >= 0) {
    auto complete = [&](const std::string& b) {
      return static_cast<int64_t>(b.size()) >= content_length;
    };
    absl::StatusOr<bool> done = ReadSome(fd, body, deadline, complete);
    if (!done.ok()) return done.status();
    if (static_cast<int64_t>(body.size()) < content_length) {
      return absl::UnavailableError("connection closed inside the response body");
    }
    body.resize(static_cast<size_t>(content_length));
  } else {
    absl::StatusOr<bool> done =
        ReadSome(fd, body, deadline, [](const std::string&) { return false; });
    if (!done.ok()) return done.status();
  }
  reply.body = std::move(body);
  return reply;
}

}  // namespace

std::string HttpReply::Header(absl::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return "";
}

absl::StatusOr<HttpReply> HttpCall(int port, absl::string_view method, absl::string_view target,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   absl::string_view body, absl::Duration timeout) {
  std::string raw = absl::StrCat(method, " ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                                 "Connection: close\r\nContent-Length: ", body.size(), "\r\n");
  for (const auto& [name, value] : headers) absl::StrAppend(&raw, name, ": ", value, "\r\n");
  absl::StrAppend(&raw, "\r\n", body);
  return HttpRaw(port, raw, timeout);
}

absl::StatusOr<HttpReply> HttpRaw(int port, absl::string_view raw, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<int> fd = Connect(port);
  if (!fd.ok()) return fd.status();
  absl::Status sent = SendAll(*fd, raw);
  // Nothing more comes: a server waiting for the rest of a cut request sees
  // EOF at once instead of its timeout.
  shutdown(*fd, SHUT_WR);
  absl::StatusOr<HttpReply> reply = ReadReply(*fd, deadline);
  close(*fd);
  if (!reply.ok() && !sent.ok()) return sent;
  return reply;
}

absl::StatusOr<RawConnection> RawConnection::Open(int port) {
  absl::StatusOr<int> fd = Connect(port);
  if (!fd.ok()) return fd.status();
  return RawConnection(*fd);
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) close(fd_);
}

absl::Status RawConnection::Send(absl::string_view bytes) { return SendAll(fd_, bytes); }

absl::StatusOr<std::string> RawConnection::ReadUntilClosed(absl::Duration timeout) {
  std::string buffer;
  absl::StatusOr<bool> eof = ReadSome(fd_, buffer, absl::Now() + timeout,
                                      [](const std::string&) { return false; });
  if (!eof.ok()) return eof.status();
  return buffer;
}

}  // namespace kv::testing
