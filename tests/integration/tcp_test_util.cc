#include "tests/integration/tcp_test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace kv::testing {

Socket::~Socket() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<Socket> Connect(int port) {
  Socket s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.fd() < 0) return absl::InternalError(absl::StrCat("socket: ", strerror(errno)));
  sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect 127.0.0.1:", port, ": ", strerror(errno)));
  }
  const int one = 1;
  setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return s;
}

absl::Status SendAll(int fd, absl::string_view data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: ", strerror(errno)));
    }
    sent += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RecvExactly(int fd, size_t n, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string out;
  std::vector<char> buf(1 << 16);
  while (out.size() < n) {
    const int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) {
      return absl::DeadlineExceededError(absl::StrCat("got ", out.size(), " of ", n, " bytes"));
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left_ms)) <= 0) continue;
    const ssize_t got = recv(fd, buf.data(), std::min(buf.size(), n - out.size()), 0);
    if (got == 0) return absl::UnavailableError(absl::StrCat("EOF after ", out.size(), " bytes"));
    if (got < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("recv: ", strerror(errno)));
    }
    out.append(buf.data(), static_cast<size_t>(got));
  }
  return out;
}

std::string SocketState(int fd, absl::Duration timeout) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) return "open";
  char c;
  const ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return "data";
  if (n == 0) return "eof";
  return errno == ECONNRESET ? "reset" : absl::StrCat("error: ", strerror(errno));
}

absl::StatusOr<std::string> EchoThrough(int port, const std::string& data,
                                        absl::Duration timeout) {
  absl::StatusOr<Socket> s = Connect(port);
  if (!s.ok()) return s.status();
  absl::Status send_status;
  std::thread sender([&] { send_status = SendAll(s->fd(), data); });
  absl::StatusOr<std::string> echoed = RecvExactly(s->fd(), data.size(), timeout);
  if (!echoed.ok()) shutdown(s->fd(), SHUT_RDWR);  // unblocks a stuck sender
  sender.join();
  if (!send_status.ok()) return send_status;
  return echoed;
}

absl::StatusOr<absl::Duration> PingOnce(int fd) {
  const absl::Time start = absl::Now();
  if (absl::Status s = SendAll(fd, "p"); !s.ok()) return s;
  absl::StatusOr<std::string> got = RecvExactly(fd, 1, absl::Seconds(10));
  if (!got.ok()) return got.status();
  return absl::Now() - start;
}

EchoServer::EchoServer(std::string greeting) : greeting_(std::move(greeting)) {
  listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener_, 128) != 0) {
    ADD_FAILURE() << "echo server: " << strerror(errno);
  }
  socklen_t len = sizeof(addr);
  getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

EchoServer::~EchoServer() {
  stopping_ = true;
  shutdown(listener_, SHUT_RDWR);  // wakes accept()
  acceptor_.join();
  close(listener_);
  absl::MutexLock lock(&mu_);
  for (int fd : fds_) shutdown(fd, SHUT_RDWR);
  for (std::thread& t : threads_) t.join();
  for (int fd : fds_) close(fd);
}

std::string EchoServer::addr() const { return absl::StrCat("127.0.0.1:", port_); }

void EchoServer::AcceptLoop() {
  while (!stopping_) {
    const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Echo(fd); });
  }
}

void EchoServer::Echo(int fd) {
  if (!greeting_.empty()) (void)SendAll(fd, greeting_);
  std::vector<char> buf(1 << 16);
  while (true) {
    const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) break;
    if (!SendAll(fd, absl::string_view(buf.data(), static_cast<size_t>(n))).ok()) break;
  }
  shutdown(fd, SHUT_WR);
}

}  // namespace kv::testing
