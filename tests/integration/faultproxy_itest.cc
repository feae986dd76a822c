// kv-faultproxy as a real process (through the kv_testing FaultProxy
// harness): byte-exact forwarding, latency, blackhole, drop, reset, refuse,
// retargeting, and a gRPC client of a real kv-central through it.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/harness/eventually.h"
#include "tests/harness/fault_proxy.h"
#include "tests/integration/itest_util.h"

namespace kv::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

// A blocking TCP socket owned by a test.
class Socket {
 public:
  explicit Socket(int fd = -1) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Connects to 127.0.0.1:port. The errno on failure.
absl::StatusOr<Socket> Connect(int port) {
  Socket s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return absl::UnavailableError(absl::StrCat("connect: ", strerror(errno), " (errno ", errno,
                                               ")"));
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

// Reads exactly `n` bytes within `timeout`. DEADLINE_EXCEEDED (with what
// came) when they do not arrive, UNAVAILABLE at EOF or a socket error.
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
    const int r = poll(&p, 1, static_cast<int>(left_ms));
    if (r <= 0) continue;
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

// What the socket does within `timeout`: "data", "eof", "reset" (or another
// error), or "open" when nothing happened.
std::string SocketState(int fd, absl::Duration timeout) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout))) <= 0) return "open";
  char c;
  const ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return "data";
  if (n == 0) return "eof";
  return errno == ECONNRESET ? "reset" : absl::StrCat("error: ", strerror(errno));
}

// An echo server on 127.0.0.1:0, a thread per connection. With a greeting,
// it first writes the greeting on each connection.
class EchoServer {
 public:
  explicit EchoServer(std::string greeting = "") : greeting_(std::move(greeting)) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        listen(listener_, 128) != 0) {
      ADD_FAILURE() << "echo server: " << strerror(errno);
    }
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~EchoServer() {
    stopping_ = true;
    shutdown(listener_, SHUT_RDWR);
    acceptor_.join();
    close(listener_);
    absl::MutexLock lock(&mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    for (std::thread& t : threads_) t.join();
    for (int fd : fds_) close(fd);
  }
  int port() const { return port_; }
  std::string addr() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      absl::MutexLock lock(&mu_);
      fds_.push_back(fd);
      threads_.emplace_back([this, fd] { Echo(fd); });
    }
  }
  void Echo(int fd) {
    if (!greeting_.empty()) (void)SendAll(fd, greeting_);
    std::vector<char> buf(1 << 16);
    while (true) {
      const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      if (!SendAll(fd, absl::string_view(buf.data(), static_cast<size_t>(n))).ok()) break;
    }
    shutdown(fd, SHUT_WR);
  }

  const std::string greeting_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  absl::Mutex mu_;
  std::vector<int> fds_ ABSL_GUARDED_BY(mu_);
  std::list<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

// Sends `data` on one thread while reading the echo on this one.
absl::StatusOr<std::string> EchoThrough(int port, const std::string& data,
                                        absl::Duration timeout = absl::Seconds(20)) {
  absl::StatusOr<Socket> s = Connect(port);
  if (!s.ok()) return s.status();
  absl::Status send_status;
  std::thread sender([&] { send_status = SendAll(s->fd(), data); });
  absl::StatusOr<std::string> echoed = RecvExactly(s->fd(), data.size(), timeout);
  sender.join();
  if (!send_status.ok()) return send_status;
  return echoed;
}

// Round-trip time of one byte on a connected socket.
absl::StatusOr<absl::Duration> PingOnce(int fd) {
  const absl::Time start = absl::Now();
  if (absl::Status s = SendAll(fd, "p"); !s.ok()) return s;
  absl::StatusOr<std::string> got = RecvExactly(fd, 1, absl::Seconds(10));
  if (!got.ok()) return got.status();
  return absl::Now() - start;
}

class FaultProxyTest : public CentralFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(CentralFixture::SetUp());
    ASSERT_OK_AND_ASSIGN(proxy_, FaultProxy::Start(dir_->Path("proxy")));
  }
  void TearDown() override {
    if (proxy_ != nullptr && HasFailure()) {
      std::cerr << "kv-faultproxy log tail:\n" << proxy_->LogTail(30);
    }
    proxy_.reset();
    CentralFixture::TearDown();
  }

  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(FaultProxyTest, ForwardsLargeTransfersAndManyConnectionsByteExact) {
  EchoServer echo;
  ASSERT_OK_AND_ASSIGN(const int port, proxy_->AddLink("echo", echo.addr()));

  const std::string big = RandomBytes(8 << 20, 1);
  ASSERT_OK_AND_ASSIGN(std::string echoed, EchoThrough(port, big));
  EXPECT_TRUE(echoed == big) << "8 MiB echo differs";

  constexpr int kConnections = 32;
  constexpr size_t kBytes = 256 << 10;
  std::vector<std::thread> clients;
  std::atomic<int> exact{0};
  for (int i = 0; i < kConnections; ++i) {
    clients.emplace_back([&, i] {
      const std::string data = RandomBytes(kBytes, 100 + i);
      absl::StatusOr<std::string> got = EchoThrough(port, data);
      if (got.ok() && *got == data) exact.fetch_add(1);
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(exact.load(), kConnections);

  const uint64_t total = big.size() + kConnections * kBytes;
  ASSERT_EVENTUALLY([&] {
    ASSERT_OK_AND_ASSIGN(ProxyLinkCounters c, proxy_->Counters("echo"));
    EXPECT_EQ(c.bytes_up, total);
    EXPECT_EQ(c.bytes_down, total);
    EXPECT_EQ(c.connections_accepted, kConnections + 1u);
    EXPECT_EQ(c.connections_active, 0u);  // clients closed, FINs forwarded
  });
}

TEST_F(FaultProxyTest, AddsLatencyPerDirectionAndKeepsOrderUnderJitter) {
  EchoServer echo;
  ASSERT_OK_AND_ASSIGN(const int port, proxy_->AddLink("echo", echo.addr()));
  ASSERT_OK_AND_ASSIGN(Socket s, Connect(port));
  ASSERT_OK_AND_ASSIGN(absl::Duration base, PingOnce(s.fd()));

  // One way only: a round trip pays it once.
  ProxyFaults up;
  up.up_latency = absl::Milliseconds(60);
  ASSERT_OK(proxy_->SetFaults("echo", up));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(absl::Duration rtt, PingOnce(s.fd()));
    EXPECT_GE(rtt, absl::Milliseconds(60));
    EXPECT_LT(rtt, absl::Milliseconds(60) + absl::Seconds(1)) << "base " << base;
  }
  // Both ways with jitter: at least twice the latency, at most plus twice
  // the jitter and generous slack.
  ASSERT_OK(proxy_->SetFaults("echo", ProxyFaults::Latency(absl::Milliseconds(40),
                                                           absl::Milliseconds(20))));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(absl::Duration rtt, PingOnce(s.fd()));
    EXPECT_GE(rtt, absl::Milliseconds(80));
    EXPECT_LT(rtt, absl::Milliseconds(120) + absl::Seconds(1));
  }
  // Many small writes under jitter arrive in order.
  std::string data;
  for (int i = 0; i < 300; ++i) absl::StrAppend(&data, "<", i, ">");
  std::thread writer([&] {
    for (size_t off = 0; off < data.size(); off += 7) {
      (void)SendAll(s.fd(), absl::string_view(data).substr(off, 7));
    }
  });
  absl::StatusOr<std::string> got = RecvExactly(s.fd(), data.size(), absl::Seconds(30));
  writer.join();
  ASSERT_OK(got);
  EXPECT_EQ(*got, data);

  ASSERT_OK(proxy_->Clear("echo"));
  ASSERT_OK_AND_ASSIGN(absl::Duration rtt, PingOnce(s.fd()));
  EXPECT_LT(rtt, absl::Milliseconds(40)) << "latency still applied after Clear";
}

TEST_F(FaultProxyTest, BlackholeHoldsDataWithConnectionOpenAndClearingResumes) {
  EchoServer echo;
  ASSERT_OK_AND_ASSIGN(const int port, proxy_->AddLink("echo", echo.addr()));
  ASSERT_OK_AND_ASSIGN(Socket s, Connect(port));
  ASSERT_OK(PingOnce(s.fd()).status());

  ASSERT_OK(proxy_->SetFaults("echo", ProxyFaults::Blackhole()));
  ASSERT_OK(SendAll(s.fd(), "held"));
  // Absence can only be observed over a window: nothing for 300 ms, and the
  // connection is neither closed nor reset.
  EXPECT_EQ(SocketState(s.fd(), absl::Milliseconds(300)), "open");
  // A new connection is accepted but carries nothing either.
  ASSERT_OK_AND_ASSIGN(Socket s2, Connect(port));
  ASSERT_OK(SendAll(s2.fd(), "new"));
  EXPECT_EQ(SocketState(s2.fd(), absl::Milliseconds(100)), "open");

  ASSERT_OK(proxy_->Clear("echo"));
  ASSERT_OK_AND_ASSIGN(std::string got, RecvExactly(s.fd(), 4, absl::Seconds(10)));
  EXPECT_EQ(got, "held");
  ASSERT_OK_AND_ASSIGN(got, RecvExactly(s2.fd(), 3, absl::Seconds(10)));
  EXPECT_EQ(got, "new");

  // One direction: the request reaches the server (counted up), the answer
  // waits.
  ASSERT_OK(proxy_->SetFaults("echo", ProxyFaults::Blackhole(ProxyDirection::kDown)));
  ASSERT_OK_AND_ASSIGN(ProxyLinkCounters before, proxy_->Counters("echo"));
  ASSERT_OK(SendAll(s.fd(), "half"));
  ASSERT_EVENTUALLY([&] {
    ASSERT_OK_AND_ASSIGN(ProxyLinkCounters c, proxy_->Counters("echo"));
    EXPECT_EQ(c.bytes_up, before.bytes_up + 4);
  });
  EXPECT_EQ(SocketState(s.fd(), absl::Milliseconds(200)), "open");
  ASSERT_OK(proxy_->ClearAll());
  ASSERT_OK_AND_ASSIGN(got, RecvExactly(s.fd(), 4, absl::Seconds(10)));
  EXPECT_EQ(got, "half");
}

TEST_F(FaultProxyTest, DropDiscardsAndCounts) {
  EchoServer echo;
  ASSERT_OK_AND_ASSIGN(const int port, proxy_->AddLink("echo", echo.addr()));
  ASSERT_OK_AND_ASSIGN(Socket s, Connect(port));
  ASSERT_OK(PingOnce(s.fd()).status());
  ASSERT_OK(proxy_->PatchFaults("echo", R"({"drop": "up"})"));
  ASSERT_OK(SendAll(s.fd(), "lost!"));
  ASSERT_EVENTUALLY([&] {
    ASSERT_OK_AND_ASSIGN(ProxyLinkCounters c, proxy_->Counters("echo"));
    EXPECT_EQ(c.dropped_bytes_up, 5u);
  });
  EXPECT_EQ(SocketState(s.fd(), absl::Milliseconds(100)), "open");
  ASSERT_OK(proxy_->Clear("echo"));
  ASSERT_OK_AND_ASSIGN(absl::Duration rtt, PingOnce(s.fd()));
  (void)rtt;
}

TEST_F(FaultProxyTest, ResetClosesCurrentConnectionsWithRst) {
  EchoServer echo;
  ASSERT_OK_AND_ASSIGN(const int port, proxy_->AddLink("echo", echo.addr()));
  std::vector<Socket> sockets;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(Socket s, Connect(port));
    ASSERT_OK(PingOnce(s.fd()).status());
    sockets.push_back(std::move(s));
  }
  ASSERT_OK_AND_ASSIGN(int reset, proxy_->Reset("echo"));
  EXPECT_EQ(reset, 3);
  for (Socket& s : sockets) EXPECT_EQ(SocketState(s.fd(), absl::Seconds(5)), "reset");
  ASSERT_OK_AND_ASSIGN(ProxyLinkCounters c, proxy_->Counters("echo"));
  EXPECT_EQ(c.connections_reset, 3u);
  EXPECT_EQ(c.connections_active, 0u);
  // New connections work.
  ASSERT_OK_AND_ASSIGN(Socket s, Connect(port));
  ASSERT_OK(PingOnce(s.fd()).status());
}

TEST_F(FaultProxyTest, RefuseFailsConnectsAndKeepsThePort) {
  EchoServer echo;
  ASSERT_OK_AND_ASSIGN(const int port, proxy_->AddLink("echo", echo.addr()));
  ASSERT_OK_AND_ASSIGN(Socket existing, Connect(port));
  ASSERT_OK(PingOnce(existing.fd()).status());

  ASSERT_OK(proxy_->SetFaults("echo", ProxyFaults::Refuse()));
  EXPECT_THAT(Connect(port), StatusIs(absl::StatusCode::kUnavailable,
                                      HasSubstr("Connection refused")));
  ASSERT_OK(PingOnce(existing.fd()).status()) << "refuse must not touch open connections";

  ASSERT_OK(proxy_->Clear("echo"));
  ASSERT_OK_AND_ASSIGN(Socket again, Connect(port));
  ASSERT_OK(PingOnce(again.fd()).status());
}

TEST_F(FaultProxyTest, TargetCanBeSetLaterAndChanged) {
  EchoServer a("A");
  EchoServer b("B");
  ASSERT_OK_AND_ASSIGN(const int port, proxy_->AddLink("l"));
  // No target yet: connections are reset at once.
  ASSERT_OK_AND_ASSIGN(Socket early, Connect(port));
  EXPECT_THAT(SocketState(early.fd(), absl::Seconds(5)), AnyOf("reset", "eof"));

  ASSERT_OK(proxy_->SetTarget("l", a.addr()));
  ASSERT_OK_AND_ASSIGN(Socket to_a, Connect(port));
  ASSERT_OK_AND_ASSIGN(std::string greeting, RecvExactly(to_a.fd(), 1, absl::Seconds(10)));
  EXPECT_EQ(greeting, "A");

  ASSERT_OK(proxy_->SetTarget("l", b.addr()));
  ASSERT_OK_AND_ASSIGN(Socket to_b, Connect(port));
  ASSERT_OK_AND_ASSIGN(greeting, RecvExactly(to_b.fd(), 1, absl::Seconds(10)));
  EXPECT_EQ(greeting, "B");
  // The old connection still goes to A.
  ASSERT_OK(PingOnce(to_a.fd()).status());

  ASSERT_OK_AND_ASSIGN(ProxyLinkCounters c, proxy_->Counters("l"));
  EXPECT_EQ(c.rejected_no_target, 1u);

  // Bad input comes back as precise errors.
  EXPECT_THAT(proxy_->SetTarget("l", "nowhere"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("HOST:PORT")));
  EXPECT_THAT(proxy_->SetTarget("missing", a.addr()), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(proxy_->AddLink("l"), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(proxy_->PatchFaults("l", R"({"latency_ms": "x"})"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("latency_ms")));
  ASSERT_OK(proxy_->RemoveLink("l"));
  EXPECT_THAT(Connect(port), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_OK(proxy_->Stop());
}

TEST_F(FaultProxyTest, GrpcThroughTheProxyFailsUnderBlackholeAndRecovers) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  ASSERT_OK(proxy_->AddLink("central", central_->grpc_addr()).status());
  stub_ = kv::v1::Kv::NewStub(NewKvChannel(proxy_->addr("central")));

  const std::string ns = MustCreateNamespace("through-proxy");
  ASSERT_FALSE(ns.empty());
  ASSERT_OK(Put(ns, "k", "v1"));
  EXPECT_EQ(Get(ns, "k"), "v1");

  ASSERT_OK(proxy_->SetFaults("central", ProxyFaults::Blackhole()));
  kv::v1::GetRequest request;
  request.set_namespace_id(ns);
  request.add_keys("k");
  kv::v1::GetResponse response;
  grpc::Status cut = stub_->Get(Context(absl::Seconds(1)).get(), request, &response);
  EXPECT_THAT(cut, AnyOf(StatusIs(grpc::StatusCode::DEADLINE_EXCEEDED),
                         StatusIs(grpc::StatusCode::UNAVAILABLE)));

  ASSERT_OK(proxy_->Clear("central"));
  ASSERT_EVENTUALLY(
      [&] {
        kv::v1::GetResponse r;
        ASSERT_OK(stub_->Get(Context(absl::Seconds(2)).get(), request, &r));
      },
      absl::Seconds(20));
  ASSERT_OK(Put(ns, "k", "v2"));
  EXPECT_EQ(Get(ns, "k"), "v2");

  // A reset breaks the channel's connection; gRPC reconnects through the
  // proxy.
  ASSERT_OK(proxy_->Reset("central").status());
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(ns, "k"), "v2"); }, absl::Seconds(20));
}

}  // namespace
}  // namespace kv::testing
