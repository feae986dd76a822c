#ifndef KV_TOOLS_FAULTPROXY_NET_UTIL_H_
#define KV_TOOLS_FAULTPROXY_NET_UTIL_H_

// Small POSIX socket helpers for kv-faultproxy: an owning fd, IPv4
// "host:port" parsing, a listener that keeps its port while it stops
// listening, and a non-blocking connect with a deadline.

#include <netinet/in.h>

#include <chrono>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv::faultproxy {

using SteadyTime = std::chrono::steady_clock::time_point;

// Owns a file descriptor; closes it on destruction. Movable, not copyable.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.Release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release();
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// An IPv4 endpoint. `host` is a dotted quad or "localhost".
struct HostPort {
  std::string host;
  int port = 0;
  sockaddr_in sockaddr() const;
  std::string ToString() const;  // "127.0.0.1:7100"
  bool operator==(const HostPort& other) const {
    return host == other.host && port == other.port;
  }
};

// Parses "HOST:PORT" (HOST a dotted IPv4 address or "localhost", PORT in
// 0..65535; port 0 only when `allow_port_zero`). INVALID_ARGUMENT naming the
// text and what is wrong.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text, bool allow_port_zero);

// A TCP listener whose port survives Stop/Resume: bound with an explicit
// port (a port-0 request is resolved first through a placeholder socket),
// so shutdown(SHUT_RD), which stops listening and makes connects fail with
// ECONNREFUSED, keeps the port bound to this socket, and listen() again
// reopens it. Non-blocking, close-on-exec.
absl::StatusOr<UniqueFd> OpenListener(const HostPort& address, int* bound_port);

// Stops a listener opened by OpenListener (new connects are refused; ones
// waiting in the backlog are reset). Resume listens again on the same port.
absl::Status StopListening(int fd);
absl::Status ResumeListening(int fd);

// Connects a non-blocking TCP socket to `target`, waiting until `deadline`
// or until `wake_fd` (if >= 0) becomes readable. UNAVAILABLE with errno's
// text when the connect fails, DEADLINE_EXCEEDED at the deadline, CANCELLED
// when woken.
absl::StatusOr<UniqueFd> ConnectTcp(const HostPort& target, SteadyTime deadline, int wake_fd);

// SO_LINGER {on, 0}: the next close() sends RST instead of FIN.
void SetLingerZero(int fd);
// TCP_NODELAY: the proxy must not add Nagle delays to small writes.
void SetNoDelay(int fd);

// An eventfd used to wake poll() loops; Signal() makes it readable until
// Drain().
class WakeFd {
 public:
  WakeFd();
  int fd() const { return fd_.get(); }
  void Signal();
  void Drain();

 private:
  UniqueFd fd_;
};

}  // namespace kv::faultproxy

#endif  // KV_TOOLS_FAULTPROXY_NET_UTIL_H_
