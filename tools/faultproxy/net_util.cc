#include "tools/faultproxy/net_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kv::faultproxy {
namespace {

absl::Status Errno(absl::string_view what, int err) {
  return absl::UnavailableError(absl::StrCat(what, ": ", strerror(err)));
}

UniqueFd NewTcpSocket() {
  return UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

absl::Status BindReuseAddr(int fd, const HostPort& address) {
  const int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
    return Errno("setsockopt(SO_REUSEADDR)", errno);
  }
  sockaddr_in addr = address.sockaddr();
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Errno(absl::StrCat("bind ", address.ToString()), errno);
  }
  return absl::OkStatus();
}

int BoundPort(int fd) {
  sockaddr_in addr;
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) Reset(other.Release());
  return *this;
}

int UniqueFd::Release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

void UniqueFd::Reset(int fd) {
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
}

sockaddr_in HostPort::sockaddr() const {
  sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (host == "localhost") {
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else {
    inet_pton(AF_INET, host.c_str(), &addr.sin_addr);  // validated by ParseHostPort
  }
  return addr;
}

std::string HostPort::ToString() const { return absl::StrCat(host, ":", port); }

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text, bool allow_port_zero) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", text, "\" is not HOST:PORT (e.g. 127.0.0.1:7100)"));
  }
  HostPort out;
  out.host = std::string(text.substr(0, colon));
  const absl::string_view port_text = text.substr(colon + 1);
  in_addr parsed;
  if (out.host != "localhost" && inet_pton(AF_INET, out.host.c_str(), &parsed) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address \"", text, "\": host \"", out.host,
        "\" is not a dotted IPv4 address or localhost (no name resolution)"));
  }
  if (!absl::SimpleAtoi(port_text, &out.port) || out.port < 0 || out.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", text, "\": port \"", port_text, "\" is not in 0..65535"));
  }
  if (out.port == 0 && !allow_port_zero) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", text, "\": port 0"));
  }
  return out;
}

absl::StatusOr<UniqueFd> OpenListener(const HostPort& address, int* bound_port) {
  HostPort resolved = address;
  // A placeholder holds the kernel's choice of port while the listener binds
  // it explicitly (both SO_REUSEADDR, neither listening yet).
  UniqueFd placeholder;
  if (resolved.port == 0) {
    placeholder = NewTcpSocket();
    if (!placeholder.valid()) return Errno("socket", errno);
    if (absl::Status s = BindReuseAddr(placeholder.get(), resolved); !s.ok()) return s;
    resolved.port = BoundPort(placeholder.get());
    if (resolved.port == 0) return Errno("getsockname", errno);
  }
  UniqueFd fd = NewTcpSocket();
  if (!fd.valid()) return Errno("socket", errno);
  if (absl::Status s = BindReuseAddr(fd.get(), resolved); !s.ok()) return s;
  if (listen(fd.get(), SOMAXCONN) != 0) {
    return Errno(absl::StrCat("listen ", resolved.ToString()), errno);
  }
  *bound_port = resolved.port;
  return fd;
}

absl::Status StopListening(int fd) {
  if (shutdown(fd, SHUT_RD) != 0) return Errno("shutdown(listener)", errno);
  return absl::OkStatus();
}

absl::Status ResumeListening(int fd) {
  if (listen(fd, SOMAXCONN) != 0) return Errno("listen again", errno);
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> ConnectTcp(const HostPort& target, SteadyTime deadline, int wake_fd) {
  UniqueFd fd = NewTcpSocket();
  if (!fd.valid()) return Errno("socket", errno);
  sockaddr_in addr = target.sockaddr();
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return fd;
  if (errno != EINPROGRESS) return Errno(absl::StrCat("connect ", target.ToString()), errno);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return absl::DeadlineExceededError(absl::StrCat("connect ", target.ToString(), ": timed out"));
    }
    pollfd fds[2] = {{fd.get(), POLLOUT, 0}, {wake_fd, POLLIN, 0}};
    const int r = poll(fds, wake_fd >= 0 ? 2 : 1, static_cast<int>(left.count()) + 1);
    if (r < 0 && errno != EINTR) return Errno("poll", errno);
    if (r <= 0) continue;
    if (wake_fd >= 0 && (fds[1].revents & POLLIN) != 0) {
      return absl::CancelledError(absl::StrCat("connect ", target.ToString(), ": cancelled"));
    }
    if (fds[0].revents != 0) break;
  }
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) return Errno(absl::StrCat("connect ", target.ToString()), err);
  return fd;
}

void SetLingerZero(int fd) {
  linger l;
  l.l_onoff = 1;
  l.l_linger = 0;
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

void SetNoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

WakeFd::WakeFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

void WakeFd::Signal() {
  const uint64_t one = 1;
  (void)!write(fd_.get(), &one, sizeof(one));
}

void WakeFd::Drain() {
  uint64_t value;
  (void)!read(fd_.get(), &value, sizeof(value));
}

}  // namespace kv::faultproxy
