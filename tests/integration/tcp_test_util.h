#ifndef KV_TESTS_INTEGRATION_TCP_TEST_UTIL_H_
#define KV_TESTS_INTEGRATION_TCP_TEST_UTIL_H_

// Plain TCP helpers for tests of kv-faultproxy: a blocking client socket,
// send/receive with deadlines, and an in-process echo server.

#include <atomic>
#include <list>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kv::testing {

// A blocking TCP socket owned by a test; closed on destruction.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket();
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Connects to 127.0.0.1:`port` (TCP_NODELAY). UNAVAILABLE with errno's text
// ("Connection refused") on failure.
absl::StatusOr<Socket> Connect(int port);

absl::Status SendAll(int fd, absl::string_view data);

// Reads exactly `n` bytes within `timeout`. DEADLINE_EXCEEDED (saying how
// many came) when they do not arrive, UNAVAILABLE at EOF or a socket error.
absl::StatusOr<std::string> RecvExactly(int fd, size_t n, absl::Duration timeout);

// What the socket does within `timeout` (without consuming data): "data",
// "eof", "reset" (ECONNRESET), "error: ..." or "open" when nothing happened.
std::string SocketState(int fd, absl::Duration timeout);

// Connects to `port`, sends `data` on one thread while reading as many bytes
// back on this one, within `timeout`.
absl::StatusOr<std::string> EchoThrough(int port, const std::string& data,
                                        absl::Duration timeout = absl::Seconds(20));

// Round-trip time of one byte on a connected socket to an echo server.
absl::StatusOr<absl::Duration> PingOnce(int fd);

// An echo server on 127.0.0.1 port 0 with a thread per connection. With a
// greeting, it first writes the greeting on each connection (to tell
// servers apart). Thread-safe; the destructor stops and joins everything.
class EchoServer {
 public:
  explicit EchoServer(std::string greeting = "");
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  int port() const { return port_; }
  std::string addr() const;  // "127.0.0.1:<port>"

 private:
  void AcceptLoop();
  void Echo(int fd);

  const std::string greeting_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::list<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::testing

#endif  // KV_TESTS_INTEGRATION_TCP_TEST_UTIL_H_
