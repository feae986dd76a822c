// kv-faultproxy as a real process (through the kv_testing FaultProxy
// harness): byte-exact forwarding, latency, blackhole, drop, reset, refuse,
// retargeting, and a gRPC client of a real kv-central through it.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/harness/eventually.h"
#include "tests/harness/fault_proxy.h"
#include "tests/integration/itest_util.h"
#include "tests/integration/tcp_test_util.h"

namespace kv::testing {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

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
