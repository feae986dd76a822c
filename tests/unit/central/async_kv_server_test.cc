// The central's client API on its completion queue (AsyncKvServer) with
// writes in flight: shutting the node down while puts are queued answers
// every call (no Finish after the queue is shut down, no hang), and every
// put acknowledged OK is in the storage afterwards. Closed-loop writers are
// gathered into one group per WAL sync (GroupCommitWait).

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "central/central_node.h"
#include "central/storage.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "proto/kv.grpc.pb.h"
#include "tests/harness/eventually.h"
#include "tests/harness/metrics_scraper.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::central {
namespace {

// One put in flight, reissued with a new key whenever it completes.
struct Slot {
  std::unique_ptr<grpc::ClientContext> context;
  kv::v1::PutRequest request;
  kv::v1::PutResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<kv::v1::PutResponse>> reader;
};

// A single dev-mode central on 127.0.0.1, any port, data in `dir`.
CentralOptions DevCentral(const kv::testing::TempDir& dir) {
  CentralOptions options;
  options.storage.data_dir = dir.Path("db");
  options.grpc_addr = "127.0.0.1:0";
  options.metrics_addr = "127.0.0.1:0";
  options.dev = true;
  return options;
}

TEST(AsyncKvServerTest, ShutdownWithPutsInFlightAnswersEveryCallAndKeepsAcknowledgedOnes) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<kv::testing::TempDir> dir,
                       kv::testing::TempDir::Create("async-kv-server"));
  const CentralOptions options = DevCentral(*dir);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CentralNode> node, CentralNode::Start(options));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", node->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = kv::v1::Kv::NewStub(channel);

  kv::v1::CreateNamespaceRequest create;
  create.set_title("async");
  kv::v1::Namespace ns;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->CreateNamespace(&context, create, &ns).ok());
  }

  constexpr int kInFlight = 32;
  grpc::CompletionQueue cq;
  std::vector<Slot> slots(kInFlight);
  std::atomic<bool> stop = false;
  std::atomic<int> next_key = 0, outstanding = 0, ok = 0, refused = 0, other = 0;
  absl::Mutex mu;
  std::vector<std::string> acknowledged;  // keys answered OK
  std::string first_other;
  auto issue = [&](int i) {
    Slot& slot = slots[i];
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    slot.request.set_namespace_id(ns.id());
    slot.request.set_key(absl::StrCat("key-", next_key.fetch_add(1)));
    slot.request.set_value("v");
    slot.reader = stub->AsyncPut(slot.context.get(), slot.request, &cq);
    outstanding.fetch_add(1);
    slot.reader->Finish(&slot.response, &slot.status, reinterpret_cast<void*>(intptr_t{i}));
  };
  for (int i = 0; i < kInFlight; ++i) issue(i);
  std::thread poller([&] {
    void* tag;
    bool event_ok;
    while (cq.Next(&tag, &event_ok)) {
      const int i = static_cast<int>(reinterpret_cast<intptr_t>(tag));
      Slot& slot = slots[i];
      const grpc::StatusCode code = slot.status.error_code();
      if (code == grpc::StatusCode::OK) {
        ok.fetch_add(1);
        absl::MutexLock lock(&mu);
        acknowledged.push_back(slot.request.key());
      } else if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::CANCELLED) {
        refused.fetch_add(1);
      } else {
        absl::MutexLock lock(&mu);
        if (other.fetch_add(1) == 0) first_other = slot.status.error_message();
      }
      outstanding.fetch_sub(1);
      if (!stop.load()) issue(i);
    }
  });

  ASSERT_EVENTUALLY([&] { ASSERT_GE(ok.load(), 200); }, absl::Seconds(30));
  const absl::Time start = absl::Now();
  node->Shutdown();  // puts still arriving and queued
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  stop = true;
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(outstanding.load(), 0); }, absl::Seconds(30));
  cq.Shutdown();
  poller.join();
  EXPECT_EQ(other.load(), 0) << first_other;
  EXPECT_GT(refused.load(), 0);  // calls arrived after the drain began

  node.reset();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Storage> storage,
                       Storage::Open(options.storage, RealClock::Get()));
  absl::MutexLock lock(&mu);
  for (const std::string& key : acknowledged) {
    ASSERT_OK_AND_ASSIGN(std::optional<Record> record, storage->Get(ns.id(), key));
    ASSERT_TRUE(record.has_value()) << key << " was acknowledged but is missing";
    EXPECT_EQ(record->value, "v");
  }
}

// Four clients, each on its own connection, each sending its next put as
// soon as the previous one is answered. Without the wait they split into
// groups that take turns syncing (about 2 puts per WAL sync); with it the
// poller waits for the clients it just answered, so most groups hold all
// four. The wait is long here (10 ms) so a slow test machine's client
// turnaround still fits in it.
TEST(AsyncKvServerTest, ClosedLoopWritersShareOneWalSyncPerRound) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<kv::testing::TempDir> dir,
                       kv::testing::TempDir::Create("group-commit-wait"));
  CentralOptions options = DevCentral(*dir);
  options.grpc_threads.group_commit_wait = absl::Milliseconds(10);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CentralNode> node, CentralNode::Start(options));
  const std::string addr = absl::StrCat("127.0.0.1:", node->grpc_port());

  constexpr int kWriters = 4;
  constexpr int kPutsEach = 150;
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs;
  for (int i = 0; i < kWriters; ++i) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection each
    stubs.push_back(kv::v1::Kv::NewStub(
        grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args)));
  }
  kv::v1::Namespace ns;
  {
    kv::v1::CreateNamespaceRequest create;
    create.set_title("closed-loop");
    grpc::ClientContext context;
    ASSERT_TRUE(stubs[0]->CreateNamespace(&context, create, &ns).ok());
  }
  auto wal_syncs = [&]() -> double {
    absl::StatusOr<kv::testing::MetricsSnapshot> m = kv::testing::ScrapeMetrics(node->metrics_port());
    if (!m.ok()) return -1;
    absl::StatusOr<double> v = m->Value("kv_rocksdb_wal_synced_total");
    return v.ok() ? *v : -1;
  };
  const double syncs_before = wal_syncs();
  ASSERT_GE(syncs_before, 0);

  std::atomic<int> failures = 0;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPutsEach; ++i) {
        kv::v1::PutRequest put;
        put.set_namespace_id(ns.id());
        put.set_key(absl::StrCat("w", w, "-", i));
        put.set_value("v");
        kv::v1::PutResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        if (!stubs[w]->Put(&context, put, &response).ok()) failures.fetch_add(1);
      }
    });
  }
  for (std::thread& t : writers) t.join();
  ASSERT_EQ(failures.load(), 0);
  const double syncs = wal_syncs() - syncs_before;
  const double puts_per_sync = kWriters * kPutsEach / syncs;
  ASSERT_OK_AND_ASSIGN(kv::testing::MetricsSnapshot m,
                       kv::testing::ScrapeMetrics(node->metrics_port()));
  ASSERT_OK_AND_ASSIGN(double complete,
                       m.Value("kv_group_commit_waits_total", {{"result", "complete"}}));
  ASSERT_OK_AND_ASSIGN(double timed_out,
                       m.Value("kv_group_commit_waits_total", {{"result", "timed_out"}}));
  EXPECT_GT(complete, 0);
  EXPECT_GE(puts_per_sync, 3.0) << syncs << " WAL syncs for " << kWriters * kPutsEach
                                << " puts; waits complete " << complete << ", timed out "
                                << timed_out;
}

// One client writing in a closed loop: with --idle_poll the poller is
// still polling when the next put arrives (the counter of spins that saw
// an event grows with the puts); without it, it never spins. The window is
// long here (10 ms) so a slow test machine's client turnaround fits in it.
TEST(AsyncKvServerTest, ClosedLoopClientIsReadWhileThePollerSpins) {
  for (const absl::Duration window : {absl::Milliseconds(10), absl::ZeroDuration()}) {
    SCOPED_TRACE(absl::FormatDuration(window));
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<kv::testing::TempDir> dir,
                         kv::testing::TempDir::Create("idle-poll"));
    CentralOptions options = DevCentral(*dir);
    options.grpc_threads.idle_poll = window;
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<CentralNode> node, CentralNode::Start(options));
    std::unique_ptr<kv::v1::Kv::Stub> stub = kv::v1::Kv::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", node->grpc_port()), grpc::InsecureChannelCredentials()));
    kv::v1::Namespace ns;
    {
      kv::v1::CreateNamespaceRequest create;
      create.set_title("idle-poll");
      grpc::ClientContext context;
      ASSERT_TRUE(stub->CreateNamespace(&context, create, &ns).ok());
    }
    constexpr int kPuts = 100;
    for (int i = 0; i < kPuts; ++i) {
      kv::v1::PutRequest put;
      put.set_namespace_id(ns.id());
      put.set_key(absl::StrCat("k", i));
      put.set_value("v");
      kv::v1::PutResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      ASSERT_TRUE(stub->Put(&context, put, &response).ok());
    }
    ASSERT_OK_AND_ASSIGN(kv::testing::MetricsSnapshot m,
                         kv::testing::ScrapeMetrics(node->metrics_port()));
    ASSERT_OK_AND_ASSIGN(double event, m.Value("kv_poller_idle_spins_total", {{"result", "event"}}));
    ASSERT_OK_AND_ASSIGN(double expired,
                         m.Value("kv_poller_idle_spins_total", {{"result", "expired"}}));
    if (window > absl::ZeroDuration()) {
      EXPECT_GE(event, kPuts / 2) << "expired: " << expired;
    } else {
      EXPECT_EQ(event, 0);
      EXPECT_EQ(expired, 0);
    }
  }
}

TEST(AsyncKvServerTest, PollerDurationsOutOfRangeAreRefused) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<kv::testing::TempDir> dir,
                       kv::testing::TempDir::Create("idle-poll-range"));
  CentralOptions options = DevCentral(*dir);
  options.grpc_threads.idle_poll = absl::Milliseconds(11);
  EXPECT_THAT(CentralNode::Start(options),
              kv::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                    ::testing::HasSubstr("--idle_poll must be between 0 and 10ms")));
  options.grpc_threads.idle_poll = absl::Microseconds(200);
  options.grpc_threads.group_commit_wait = -absl::Microseconds(1);
  EXPECT_THAT(CentralNode::Start(options),
              kv::testing::StatusIs(
                  absl::StatusCode::kInvalidArgument,
                  ::testing::HasSubstr("--group_commit_wait must be between 0 and 10ms, got -1us")));
}

}  // namespace
}  // namespace kv::central
