// PullSender: this central's writes go at once to a quorum peer and gather
// for a follower; relayed entries gather; the window holds batches until
// acks come; heartbeats never claim more than was sent.
// The "nothing arrived within 300 ms" checks wait on time by necessity; a
// sender that sends too early fails them, a correct one passes at any speed.
#include "central/pull_sender.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "central/replica_store.h"
#include "central/replication_service.h"
#include "common/clock.h"
#include "tests/harness/eventually.h"
#include "tests/harness/status_matchers.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using kv::replication::v1::PullResponse;
using kv::storage::v1::ChangeEntry;

// Records what the sender writes.
class RecordingSink final : public PullSender::Sink {
 public:
  bool Write(const PullResponse& response) override {
    absl::MutexLock lock(&mu_);
    written_.push_back(response);
    return true;
  }
  std::vector<PullResponse> Batches() {
    absl::MutexLock lock(&mu_);
    std::vector<PullResponse> out;
    for (const PullResponse& r : written_)
      if (r.has_batch()) out.push_back(r);
    return out;
  }
  std::vector<PullResponse> Heartbeats() {
    absl::MutexLock lock(&mu_);
    std::vector<PullResponse> out;
    for (const PullResponse& r : written_)
      if (r.has_heartbeat()) out.push_back(r);
    return out;
  }

 private:
  absl::Mutex mu_;
  std::vector<PullResponse> written_ ABSL_GUARDED_BY(mu_);
};

constexpr uint32_t kPeer = 2;  // the fixture's node is 7

class PullSenderTest : public StorageTest {
 protected:
  // Long lingers and heartbeat interval unless a test shortens them: a
  // batch that arrives soon went because of what the test checks.
  PullSenderOptions Options() {
    PullSenderOptions options;
    options.node_id = options_.node_id;
    options.peer_id = kPeer;
    options.heartbeat_interval = absl::Seconds(30);
    options.relay_linger = absl::Seconds(30);
    options.follower_linger = absl::Seconds(30);
    options.quorum_peer = [this] { return quorum_peer_.load(); };
    return options;
  }
  // Starts a sender from the end of the log on its own thread. Call with
  // ASSERT_NO_FATAL_FAILURE.
  void Start(const PullSenderOptions& options) {
    sender_ = std::make_unique<PullSender>(options, storage_->change_log(), storage_->replica(),
                                           tracker_, storage_->change_log().LastSequence() + 1);
    thread_ = std::thread([this] { result_ = sender_->Run(sink_, [this] { return stop_.load(); }); });
    // The first heartbeat goes at once (and would take pending entries
    // with it): the test's writes come after it.
    ASSERT_EVENTUALLY([&] { ASSERT_GE(sink_.Heartbeats().size(), 1u); });
  }
  absl::Status StopSender() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    return result_;
  }
  void TearDown() override {
    StopSender().IgnoreError();
    StorageTest::TearDown();
  }
  // A PUT written at node 9.
  std::vector<ChangeEntry> Node9Put(const std::string& key) {
    ChangeEntry entry;
    entry.set_kind(ChangeEntry::PUT);
    entry.set_namespace_id(ns_);
    entry.set_key(key);
    entry.set_value_included(true);
    entry.set_value("relayed");
    Version{static_cast<uint64_t>(absl::ToUnixMillis(clock_.TimeNow())) + 1, 0, 9}.ToProto(
        entry.mutable_version());
    std::vector<ChangeEntry> entries;
    entries.push_back(std::move(entry));
    return entries;
  }
  // Node 9's PUT applied as if received from it, no stream position given
  // (as anti-entropy applies).
  void ApplyRelayed(const std::string& key) {
    ASSERT_OK(storage_->replica().Apply(Node9Put(key), 9, std::nullopt).status());
  }
  // Node 9's PUT, received on `source`'s stream as its log entry
  // `sequence` (incarnation "inc-<source>").
  void ApplyFromStream(const std::string& key, uint32_t source, uint64_t sequence) {
    ASSERT_OK(storage_->replica()
                  .Apply(Node9Put(key), source,
                         PeerProgress{absl::StrCat("inc-", source), sequence}, sequence)
                  .status());
  }
  static kv::replication::v1::PullHoldings Holds(uint32_t node, uint64_t first, uint64_t last,
                                                 const std::string& incarnation = "") {
    kv::replication::v1::PullHoldings holdings;
    auto* source = holdings.add_sources();
    source->set_node_id(node);
    source->set_incarnation(incarnation.empty() ? absl::StrCat("inc-", node) : incarnation);
    source->set_first_sequence(first);
    source->set_last_sequence(last);
    return holdings;
  }
  // Waits until the sender has read the whole log and gone to sleep: what
  // it has not sent by then it holds on purpose.
  void WaitUntilSettled() {
    const uint64_t last = storage_->change_log().LastSequence();
    ASSERT_EVENTUALLY([&] { ASSERT_GE(sender_->settled_through(), last); });
  }
  static std::vector<std::string> Keys(const PullResponse& batch) {
    std::vector<std::string> keys;
    for (const auto& e : batch.batch().entries()) keys.push_back(e.entry().key());
    return keys;
  }

  std::atomic<bool> quorum_peer_{true};
  std::atomic<bool> stop_{false};
  QuorumTracker tracker_;
  RecordingSink sink_;
  std::unique_ptr<PullSender> sender_;
  std::thread thread_;
  absl::Status result_;
};

TEST_F(PullSenderTest, OwnWritesGoAtOnceToAQuorumPeer) {
  ASSERT_NO_FATAL_FAILURE(Start(Options()));
  Put("a", "1");
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(sink_.Batches().size(), 1u); });
  EXPECT_EQ(Keys(sink_.Batches()[0]), std::vector<std::string>{"a"});
  EXPECT_TRUE(sink_.Batches()[0].batch().entries(0).entry().value_included());
  EXPECT_TRUE(absl::IsUnavailable(StopSender()));
}

TEST_F(PullSenderTest, OwnWritesGatherForAFollowerUntilItBecomesAQuorumPeer) {
  quorum_peer_.store(false);
  ASSERT_NO_FATAL_FAILURE(Start(Options()));
  Put("a", "1");
  Put("b", "2");
  ASSERT_NO_FATAL_FAILURE(WaitUntilSettled());
  EXPECT_TRUE(sink_.Batches().empty());
  quorum_peer_.store(true);  // e.g. the quorum peer's stream went down
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(sink_.Batches().size(), 1u); });
  EXPECT_EQ(Keys(sink_.Batches()[0]), (std::vector<std::string>{"a", "b"}));
}

TEST_F(PullSenderTest, RelayedEntriesGatherAndGoWithTheNextOwnWrite) {
  ASSERT_NO_FATAL_FAILURE(Start(Options()));
  ApplyRelayed("r1");
  ApplyRelayed("r2");
  ASSERT_NO_FATAL_FAILURE(WaitUntilSettled());
  EXPECT_TRUE(sink_.Batches().empty());
  Put("own", "1");
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(sink_.Batches().size(), 1u); });
  EXPECT_EQ(Keys(sink_.Batches()[0]), (std::vector<std::string>{"r1", "r2", "own"}));
}

TEST_F(PullSenderTest, RelayedEntriesGoAfterTheRelayLinger) {
  PullSenderOptions options = Options();
  options.relay_linger = absl::Milliseconds(50);
  ASSERT_NO_FATAL_FAILURE(Start(options));
  ApplyRelayed("r1");
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(sink_.Batches().size(), 1u); });
  EXPECT_EQ(Keys(sink_.Batches()[0]), std::vector<std::string>{"r1"});
}

TEST_F(PullSenderTest, EntriesThePeerHoldsGoAsNoops) {
  PullSenderOptions options = Options();
  options.origins = &storage_->replica().relay_origins();
  ASSERT_NO_FATAL_FAILURE(Start(options));
  // The peer holds node 5's log 1..10 and its own (kPeer) 1..3, of other
  // incarnations nothing.
  kv::replication::v1::PullHoldings holdings = Holds(5, 1, 10);
  *holdings.add_sources() = Holds(kPeer, 1, 3).sources(0);
  sender_->OnHoldings(holdings);
  ASSERT_NO_FATAL_FAILURE(ApplyFromStream("held", 5, 10));
  ASSERT_NO_FATAL_FAILURE(ApplyFromStream("not-yet", 5, 11));
  ASSERT_NO_FATAL_FAILURE(ApplyFromStream("from-peer", kPeer, 3));
  ASSERT_NO_FATAL_FAILURE(ApplyFromStream("other-source", 6, 1));
  ASSERT_NO_FATAL_FAILURE(ApplyRelayed("origin-unknown"));  // e.g. a repair
  Put("own", "1");
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(sink_.Batches().size(), 1u); });
  const PullResponse batch = sink_.Batches()[0];
  ASSERT_EQ(batch.batch().entries_size(), 6);
  std::vector<std::string> kinds;
  for (const auto& e : batch.batch().entries())
    kinds.push_back(e.entry().kind() == ChangeEntry::NOOP ? "NOOP" : e.entry().key());
  EXPECT_EQ(kinds, (std::vector<std::string>{"NOOP", "not-yet", "NOOP", "other-source",
                                             "origin-unknown", "own"}));
  // The sequences stay contiguous.
  for (int i = 1; i < batch.batch().entries_size(); ++i)
    EXPECT_EQ(batch.batch().entries(i).sequence(), batch.batch().entries(i - 1).sequence() + 1);
}

TEST_F(PullSenderTest, HoldingsOfAnotherIncarnationOrAnOlderReportDoNotCount) {
  PullSenderOptions options = Options();
  options.origins = &storage_->replica().relay_origins();
  ASSERT_NO_FATAL_FAILURE(Start(options));
  sender_->OnHoldings(Holds(5, 1, 10, "wiped-since"));
  ASSERT_NO_FATAL_FAILURE(ApplyFromStream("a", 5, 4));
  sender_->OnHoldings(Holds(5, 1, 10));
  sender_->OnHoldings(Holds(6, 1, 10));  // replaces the report: 5 no longer held
  ASSERT_NO_FATAL_FAILURE(ApplyFromStream("b", 5, 5));
  Put("own", "1");
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(sink_.Batches().size(), 1u); });
  EXPECT_EQ(Keys(sink_.Batches()[0]), (std::vector<std::string>{"a", "b", "own"}));
}

TEST_F(PullSenderTest, TheWindowHoldsBatchesUntilAcked) {
  PullSenderOptions options = Options();
  options.batches_in_flight = 1;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  Put("a", "1");
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(sink_.Batches().size(), 1u); });
  const uint64_t first = sink_.Batches()[0].batch().entries(0).sequence();
  Put("b", "2");
  Put("c", "3");
  ASSERT_NO_FATAL_FAILURE(WaitUntilSettled());
  EXPECT_EQ(sink_.Batches().size(), 1u);
  sender_->OnAck(first);
  EXPECT_EQ(tracker_.Acked(kPeer), first);
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(sink_.Batches().size(), 2u); });
  EXPECT_EQ(Keys(sink_.Batches()[1]), (std::vector<std::string>{"b", "c"}));
  // An ack beyond what was sent counts only what was sent.
  sender_->OnAck(first + 100);
  EXPECT_EQ(tracker_.Acked(kPeer), first + 2);
}

TEST_F(PullSenderTest, HeartbeatsClaimNoMoreThanWasSent) {
  PullSenderOptions options = Options();
  options.heartbeat_interval = absl::Milliseconds(20);
  options.batches_in_flight = 1;
  ASSERT_NO_FATAL_FAILURE(Start(options));
  Put("a", "1");
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(sink_.Batches().size(), 1u); });
  const uint64_t sent = sink_.Batches()[0].batch().entries(0).sequence();
  // The window is full: the relayed entry waits, and heartbeats go on.
  const int64_t before_relay_us = absl::ToUnixMicros(RealClock::Get().TimeNow());
  ApplyRelayed("r1");
  const size_t seen = sink_.Heartbeats().size();
  ASSERT_EVENTUALLY([&] { ASSERT_GE(sink_.Heartbeats().size(), seen + 3); });
  PullResponse last = sink_.Heartbeats().back();
  EXPECT_EQ(last.heartbeat().head_sequence(), sent);
  EXPECT_LT(last.heartbeat().sent_as_of_us(), before_relay_us)
      << "a heartbeat claims an entry that has not been sent";
  EXPECT_GT(last.heartbeat().time_us(), before_relay_us);
  EXPECT_EQ(sink_.Batches().size(), 1u);
  // Acked: the entry goes with the next heartbeat, which then covers it.
  sender_->OnAck(sent);
  ASSERT_EVENTUALLY([&] {
    ASSERT_EQ(sink_.Batches().size(), 2u);
    ASSERT_GT(sink_.Heartbeats().back().heartbeat().sent_as_of_us(), before_relay_us);
  });
  EXPECT_EQ(Keys(sink_.Batches()[1]), std::vector<std::string>{"r1"});
  EXPECT_EQ(sink_.Heartbeats().back().heartbeat().head_sequence(), sent + 1);
}

TEST_F(PullSenderTest, EndsWhenTheReaderIsDone) {
  ASSERT_NO_FATAL_FAILURE(Start(Options()));
  sender_->OnReaderDone();
  if (thread_.joinable()) thread_.join();
  EXPECT_TRUE(absl::IsCancelled(result_));
}

// Which peers get this central's writes at once (ReplicationService).
TEST(QuorumPeerByRingTest, TheNextOpenPeersInRingOrderAreTheQuorumPeers) {
  // 3 centrals, one peer needed: each prefers the next id, wrapping around.
  EXPECT_TRUE(IsQuorumPeerByRing(1, 2, {2, 3}, 1));
  EXPECT_FALSE(IsQuorumPeerByRing(1, 3, {2, 3}, 1));
  EXPECT_TRUE(IsQuorumPeerByRing(2, 3, {1, 3}, 1));
  EXPECT_FALSE(IsQuorumPeerByRing(2, 1, {1, 3}, 1));
  EXPECT_TRUE(IsQuorumPeerByRing(3, 1, {1, 2}, 1));
  EXPECT_FALSE(IsQuorumPeerByRing(3, 2, {1, 2}, 1));
  // The preferred peer's stream is down: the next one takes over.
  EXPECT_TRUE(IsQuorumPeerByRing(1, 3, {3}, 1));
  // 5 centrals, two peers needed; none needed (W = 1): nobody.
  EXPECT_TRUE(IsQuorumPeerByRing(4, 5, {1, 2, 3, 5}, 2));
  EXPECT_TRUE(IsQuorumPeerByRing(4, 1, {1, 2, 3, 5}, 2));
  EXPECT_FALSE(IsQuorumPeerByRing(4, 2, {1, 2, 3, 5}, 2));
  EXPECT_FALSE(IsQuorumPeerByRing(1, 2, {2, 3}, 0));
}

}  // namespace
}  // namespace kv::central
