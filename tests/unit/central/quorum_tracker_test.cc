// QuorumTracker (asynchronous quorum waits) and the rule that a write's
// quorum deadline runs from its local commit (Replicator::AwaitQuorumAsync).
#include "central/quorum_tracker.h"

#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "central/replicator.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/eventually.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using Outcome = QuorumTracker::Outcome;

// What one waiter's callback was given; thread-safe.
struct Answered {
  absl::Mutex mu;
  int calls ABSL_GUARDED_BY(mu) = 0;
  Outcome outcome ABSL_GUARDED_BY(mu) = Outcome::kShutdown;
  size_t peers ABSL_GUARDED_BY(mu) = 0;
  absl::Time at ABSL_GUARDED_BY(mu);

  QuorumTracker::Callback Callback() {
    return [this](Outcome o, size_t p) {
      absl::MutexLock lock(&mu);
      ++calls;
      outcome = o;
      peers = p;
      at = absl::Now();
    };
  }
  int Calls() {
    absl::MutexLock lock(&mu);
    return calls;
  }
  Outcome GetOutcome() {
    absl::MutexLock lock(&mu);
    return outcome;
  }
  size_t Peers() {
    absl::MutexLock lock(&mu);
    return peers;
  }
  absl::Time At() {
    absl::MutexLock lock(&mu);
    return at;
  }
};

absl::Time Now() { return RealClock::Get().TimeNow(); }

TEST(QuorumTrackerTest, AckAnswersTheWaiterOnceItsSequenceIsReached) {
  QuorumTracker tracker;
  Answered a;
  tracker.WaitAsync(5, 1, Now() + absl::Seconds(30), a.Callback());
  EXPECT_EQ(tracker.waiting(), 1u);
  tracker.OnAck(2, 4);
  EXPECT_EQ(a.Calls(), 0);
  tracker.OnAck(2, 5);  // answers on this thread, before returning
  EXPECT_EQ(a.Calls(), 1);
  EXPECT_EQ(a.GetOutcome(), Outcome::kReached);
  EXPECT_EQ(a.Peers(), 1u);
  EXPECT_EQ(tracker.waiting(), 0u);
  tracker.OnAck(2, 9);
  EXPECT_EQ(a.Calls(), 1);
}

TEST(QuorumTrackerTest, NeedsDistinctPeers) {
  QuorumTracker tracker;
  Answered a;
  tracker.WaitAsync(5, 2, Now() + absl::Seconds(30), a.Callback());
  tracker.OnAck(2, 5);
  tracker.OnAck(2, 7);
  EXPECT_EQ(a.Calls(), 0);
  tracker.OnAck(3, 6);
  EXPECT_EQ(a.Calls(), 1);
  EXPECT_EQ(a.GetOutcome(), Outcome::kReached);
  EXPECT_EQ(a.Peers(), 2u);
}

TEST(QuorumTrackerTest, AlreadyAckedIsAnsweredAtOnce) {
  QuorumTracker tracker;
  tracker.OnAck(3, 10);
  Answered a;
  tracker.WaitAsync(10, 1, Now() + absl::Seconds(30), a.Callback());
  EXPECT_EQ(a.Calls(), 1);
  EXPECT_EQ(a.GetOutcome(), Outcome::kReached);
  EXPECT_EQ(tracker.waiting(), 0u);
}

TEST(QuorumTrackerTest, DeadlineAnswersWithHowManyPeersHaveIt) {
  QuorumTracker tracker;
  tracker.OnAck(2, 8);
  Answered a;
  const absl::Time deadline = Now() + absl::Milliseconds(150);
  tracker.WaitAsync(8, 2, deadline, a.Callback());
  EXPECT_EQ(a.Calls(), 0);
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(a.Calls(), 1); });
  EXPECT_EQ(a.GetOutcome(), Outcome::kDeadline);
  EXPECT_EQ(a.Peers(), 1u);
  EXPECT_GE(a.At(), deadline);
  tracker.OnAck(3, 8);  // too late: not answered twice
  EXPECT_EQ(a.Calls(), 1);
}

// The deadline is absolute: a wait registered after its write's deadline
// (counted from the commit) has passed fails at once, and one registered
// late expires at commit + deadline, not registration + deadline.
TEST(QuorumTrackerTest, DeadlineCountsFromTheCommitNotFromRegistration) {
  QuorumTracker tracker;
  const absl::Duration write_deadline = absl::Seconds(2);
  Answered past;
  tracker.WaitAsync(1, 1, Now() - absl::Seconds(3) + write_deadline, past.Callback());
  EXPECT_EQ(past.Calls(), 1);
  EXPECT_EQ(past.GetOutcome(), Outcome::kDeadline);

  Answered late;
  const absl::Time committed_at = Now() - absl::Milliseconds(1700);
  const absl::Time registered = absl::Now();
  tracker.WaitAsync(1, 1, committed_at + write_deadline, late.Callback());
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(late.Calls(), 1); }, absl::Seconds(5));
  EXPECT_EQ(late.GetOutcome(), Outcome::kDeadline);
  // About 300 ms after registration; from registration it would be 2 s.
  EXPECT_LT(late.At() - registered, absl::Milliseconds(1500));
}

TEST(QuorumTrackerTest, ManyWaitersEachAnsweredOnce) {
  QuorumTracker tracker;
  constexpr int kWaiters = 2000;
  std::vector<std::unique_ptr<Answered>> answered;
  const absl::Time far = Now() + absl::Seconds(30);
  const absl::Time soon = Now() + absl::Milliseconds(200);
  for (int i = 1; i <= kWaiters; ++i) {
    answered.push_back(std::make_unique<Answered>());
    // Odd sequences wait long, even ones expire soon; a few need 2 peers.
    const size_t needed = i % 10 == 0 ? 2 : 1;
    tracker.WaitAsync(static_cast<uint64_t>(i), needed, i % 2 == 1 ? far : soon,
                      answered.back()->Callback());
  }
  for (uint64_t acked = 100; acked <= kWaiters / 2; acked += 100) tracker.OnAck(2, acked);
  for (int i = 1; i <= kWaiters / 2; ++i) {
    const size_t needed = i % 10 == 0 ? 2 : 1;
    if (needed == 1) {
      ASSERT_EQ(answered[i - 1]->Calls(), 1) << i;
      EXPECT_EQ(answered[i - 1]->GetOutcome(), Outcome::kReached) << i;
    }
  }
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(tracker.waiting(), static_cast<size_t>(kWaiters / 4)); });
  tracker.OnAck(3, kWaiters);
  EXPECT_EQ(tracker.waiting(), 0u);
  for (int i = 1; i <= kWaiters; ++i) {
    Answered& a = *answered[i - 1];
    ASSERT_EQ(a.Calls(), 1) << i;
    const size_t needed = i % 10 == 0 ? 2 : 1;
    const bool acked_by_2 = i <= kWaiters / 2;
    // Reached unless it expired first: even sequences not reached by
    // peer 2's acks alone expired before peer 3's ack.
    const bool expired = i % 2 == 0 && (needed == 2 || !acked_by_2);
    EXPECT_EQ(a.GetOutcome(), expired ? Outcome::kDeadline : Outcome::kReached) << i;
  }
}

TEST(QuorumTrackerTest, ShutdownAnswersEveryWaiterAndLaterOnesAtOnce) {
  QuorumTracker tracker;
  tracker.OnAck(2, 3);
  Answered a, b, later;
  tracker.WaitAsync(4, 1, Now() + absl::Seconds(30), a.Callback());
  tracker.WaitAsync(5, 2, Now() + absl::Seconds(30), b.Callback());
  tracker.Shutdown();
  EXPECT_EQ(a.Calls(), 1);
  EXPECT_EQ(a.GetOutcome(), Outcome::kShutdown);
  EXPECT_EQ(b.Calls(), 1);
  EXPECT_EQ(b.GetOutcome(), Outcome::kShutdown);
  tracker.WaitAsync(6, 1, Now() + absl::Seconds(30), later.Callback());
  EXPECT_EQ(later.Calls(), 1);
  EXPECT_EQ(later.GetOutcome(), Outcome::kShutdown);
  // Acks are still recorded; a sequence already held is still reached.
  tracker.OnAck(2, 9);
  EXPECT_EQ(tracker.Acked(2), 9u);
  Answered held;
  tracker.WaitAsync(9, 1, Now() + absl::Seconds(30), held.Callback());
  EXPECT_EQ(held.GetOutcome(), Outcome::kReached);
}

TEST(QuorumTrackerTest, DestructionAnswersWaiters) {
  Answered a;
  {
    QuorumTracker tracker;
    tracker.WaitAsync(4, 1, Now() + absl::Seconds(30), a.Callback());
  }
  EXPECT_EQ(a.Calls(), 1);
  EXPECT_EQ(a.GetOutcome(), Outcome::kShutdown);
}

// Callbacks run without the tracker's lock: one may call back into it.
TEST(QuorumTrackerTest, CallbackMayUseTheTracker) {
  QuorumTracker tracker;
  Answered second;
  tracker.WaitAsync(1, 1, Now() + absl::Seconds(30), [&](Outcome, size_t) {
    EXPECT_EQ(tracker.Acked(2), 1u);
    tracker.WaitAsync(2, 1, Now() + absl::Seconds(30), second.Callback());
  });
  tracker.OnAck(2, 1);
  EXPECT_EQ(second.Calls(), 0);
  tracker.OnAck(2, 2);
  EXPECT_EQ(second.Calls(), 1);
}

TEST(QuorumTrackerTest, WaitForBlocksUntilReachedOrDeadline) {
  QuorumTracker tracker;
  std::thread acker([&] {
    // Ack only once WaitFor is blocked on its waiter.
    EXPECT_EVENTUALLY([&] { ASSERT_EQ(tracker.waiting(), 1u); });
    tracker.OnAck(2, 3);
  });
  EXPECT_EQ(tracker.WaitFor(3, 1, Now() + absl::Seconds(30)), 1u);
  acker.join();
  EXPECT_EQ(tracker.WaitFor(4, 1, Now() + absl::Milliseconds(50)), 0u);
}

// The Replicator's wait counts its deadline from the commit time it is
// given (DESIGN §4.2: resume-by-time relies on no write being acknowledged
// after commit + write deadline).
class ReplicatorQuorumTest : public StorageTest {
 protected:
  void SetUp() override {
    StorageTest::SetUp();
    if (HasFatalFailure()) return;
    ReplicatorOptions options;
    options.node_id = 7;
    options.peers = "7=127.0.0.1:1,8=127.0.0.1:2,9=127.0.0.1:3";
    options.write_deadline = absl::Seconds(2);
    ASSERT_OK_AND_ASSIGN(replicator_, Replicator::Create(options, *storage_, nullptr));
  }
  void TearDown() override {
    replicator_.reset();
    StorageTest::TearDown();
  }

  // Registers a wait for `sequence` committed at `committed_at`; the
  // returned status is set once answered.
  struct Result {
    absl::Mutex mu;
    std::optional<absl::Status> status ABSL_GUARDED_BY(mu);
    absl::Time at ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<Result> Await(uint64_t sequence, absl::Time committed_at) {
    auto result = std::make_shared<Result>();
    replicator_->AwaitQuorumAsync(sequence, committed_at, [result](absl::Status status) {
      absl::MutexLock lock(&result->mu);
      result->status = std::move(status);
      result->at = absl::Now();
    });
    return result;
  }
  static bool Answered(Result& r) {
    absl::MutexLock lock(&r.mu);
    return r.status.has_value();
  }

  std::unique_ptr<Replicator> replicator_;
};

TEST_F(ReplicatorQuorumTest, AckOfOnePeerAnswersOk) {
  std::shared_ptr<Result> r = Await(3, Now());
  EXPECT_FALSE(Answered(*r));
  replicator_->tracker().OnAck(9, 3);
  ASSERT_TRUE(Answered(*r));
  absl::MutexLock lock(&r->mu);
  EXPECT_TRUE(r->status->ok()) << *r->status;
}

TEST_F(ReplicatorQuorumTest, DeadlineRunsFromTheCommit) {
  // Committed 2.5 s ago with a 2 s deadline: refused at once.
  std::shared_ptr<Result> expired = Await(3, Now() - absl::Milliseconds(2500));
  ASSERT_TRUE(Answered(*expired));
  {
    absl::MutexLock lock(&expired->mu);
    EXPECT_TRUE(absl::IsUnavailable(*expired->status)) << *expired->status;
    EXPECT_NE(expired->status->message().find("durable on 1 of 3 centrals"), std::string::npos)
        << *expired->status;
  }
  // Committed 1.7 s ago: refused about 0.3 s from now, not 2 s.
  const absl::Time registered = absl::Now();
  std::shared_ptr<Result> late = Await(4, Now() - absl::Milliseconds(1700));
  ASSERT_EVENTUALLY([&] { ASSERT_TRUE(Answered(*late)); }, absl::Seconds(5));
  absl::MutexLock lock(&late->mu);
  EXPECT_TRUE(absl::IsUnavailable(*late->status)) << *late->status;
  EXPECT_LT(late->at - registered, absl::Milliseconds(1500));
  // An ack after the deadline changes nothing (answered once).
  replicator_->tracker().OnAck(8, 4);
}

TEST_F(ReplicatorQuorumTest, StopAnswersOpenWaits) {
  std::shared_ptr<Result> r = Await(5, Now());
  replicator_->Stop();
  ASSERT_TRUE(Answered(*r));
  absl::MutexLock lock(&r->mu);
  EXPECT_TRUE(absl::IsUnavailable(*r->status)) << *r->status;
  EXPECT_NE(r->status->message().find("shutting down"), std::string::npos) << *r->status;
}

}  // namespace
}  // namespace kv::central
