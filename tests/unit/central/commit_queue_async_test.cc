// CommitQueue::CommitAsync: who leads, who completes, the durability hook,
// and the log's guarantees with blocking and asynchronous writers mixed.

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "central/change_log_impl.h"
#include "central/commit_queue.h"
#include "central/rocks_db.h"
#include "common/hlc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/eventually.h"
#include "tests/harness/simulated_clock.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"
#include "tests/unit/central/commit_queue_fixture.h"

namespace kv::central {
namespace {

using ::kv::storage::v1::ChangeEntry;
using ::kv::testing::StatusIs;

// What a CommitAsync callback saw.
struct AsyncResult {
  absl::Notification done;
  absl::StatusOr<std::vector<Version>> versions;
  std::thread::id thread;
};

class CommitQueueAsyncTest : public CommitQueueFixture {
 protected:
  // CommitAsync recording its result in `result`.
  void CommitAsync(CommitQueue::Request request, AsyncResult& result) {
    queue_->CommitAsync(std::move(request),
                        [&result](absl::StatusOr<std::vector<Version>> versions) {
                          result.versions = std::move(versions);
                          result.thread = std::this_thread::get_id();
                          result.done.Notify();
                        });
  }
};

TEST_F(CommitQueueAsyncTest, IdleQueueCommitsOnTheCallersThreadBeforeReturning) {
  AsyncResult result;
  CommitAsync(PutRequest("a"), result);
  ASSERT_TRUE(result.done.HasBeenNotified());
  EXPECT_EQ(result.thread, std::this_thread::get_id());
  ASSERT_OK(result.versions);
  ASSERT_EQ(result.versions->size(), 1u);
  EXPECT_EQ(log_->LastSequence(), 1u);
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> a, db_->Get(db_->records(), "a"));
  EXPECT_EQ(a, (*result.versions)[0].ToString());
}

TEST_F(CommitQueueAsyncTest, RejectedPrepareFailsThatRequestAlone) {
  CommitQueue::Request bad = PutRequest("bad");
  bad.prepare = [](absl::Span<const Version>, rocksdb::WriteBatch&) {
    return absl::FailedPreconditionError("no");
  };
  AsyncResult rejected, accepted;
  CommitAsync(std::move(bad), rejected);
  CommitAsync(PutRequest("good"), accepted);
  ASSERT_TRUE(rejected.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(accepted.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_THAT(rejected.versions, StatusIs(absl::StatusCode::kFailedPrecondition, "no"));
  ASSERT_OK(accepted.versions);
  EXPECT_EQ(log_->LastSequence(), 1u);
}

TEST_F(CommitQueueAsyncTest, AsyncDurabilityHookGatesTheAnswer) {
  absl::Mutex mu;
  std::vector<std::pair<uint64_t, absl::AnyInvocable<void(absl::Status) &&>>> waiting;
  queue_->SetAsyncDurabilityHook(
      [&](uint64_t sequence, absl::AnyInvocable<void(absl::Status) &&> done) {
        absl::MutexLock lock(&mu);
        waiting.emplace_back(sequence, std::move(done));
      });
  AsyncResult first, second, unreplicated;
  CommitAsync(PutRequest("a"), first);
  CommitAsync(PutRequest("b"), second);
  CommitQueue::Request local = PutRequest("c");
  local.await_replicas = false;
  CommitAsync(std::move(local), unreplicated);

  // Committed (the log has them), not answered until the hook says so.
  EXPECT_EQ(log_->LastSequence(), 3u);
  ASSERT_TRUE(unreplicated.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_OK(unreplicated.versions);
  EXPECT_FALSE(first.done.HasBeenNotified());
  EXPECT_FALSE(second.done.HasBeenNotified());

  absl::MutexLock lock(&mu);
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_EQ(waiting[0].first, 1u);
  EXPECT_EQ(waiting[1].first, 2u);
  std::move(waiting[1].second)(absl::UnavailableError("durable on 1 of 3 centrals"));
  std::move(waiting[0].second)(absl::OkStatus());
  ASSERT_TRUE(first.done.HasBeenNotified());
  ASSERT_TRUE(second.done.HasBeenNotified());
  ASSERT_OK(first.versions);
  EXPECT_THAT(second.versions,
              StatusIs(absl::StatusCode::kUnavailable, "durable on 1 of 3 centrals"));
}

// An open CommitBatch defers leading: the requests wait until Flush, which
// commits them as ONE group on the flushing thread.
TEST_F(CommitQueueAsyncTest, BatchCommitsItsRequestsAsOneGroupAtFlush) {
  std::vector<uint64_t> group_ends;  // last sequence of each writer's group
  queue_->SetAsyncDurabilityHook(
      [&](uint64_t sequence, absl::AnyInvocable<void(absl::Status) &&> done) {
        group_ends.push_back(sequence);
        std::move(done)(absl::OkStatus());
      });
  AsyncResult a, b, c;
  CommitBatch batch;
  CommitAsync(PutRequest("a"), a);
  CommitAsync(PutRequest("b"), b);
  CommitAsync(PutRequest("c"), c);
  EXPECT_FALSE(a.done.HasBeenNotified());
  EXPECT_FALSE(c.done.HasBeenNotified());
  EXPECT_EQ(log_->LastSequence(), 0u);

  batch.Flush();
  for (AsyncResult* r : {&a, &b, &c}) {
    ASSERT_TRUE(r->done.HasBeenNotified());
    ASSERT_OK(r->versions);
    EXPECT_EQ(r->thread, std::this_thread::get_id());
  }
  EXPECT_EQ(log_->LastSequence(), 3u);
  EXPECT_THAT(group_ends, ::testing::ElementsAre(3u, 3u, 3u));

  // Still open after a Flush: the next requests wait for the next one.
  AsyncResult d;
  CommitAsync(PutRequest("d"), d);
  EXPECT_FALSE(d.done.HasBeenNotified());
  batch.Flush();
  ASSERT_TRUE(d.done.HasBeenNotified());
  EXPECT_EQ(log_->LastSequence(), 4u);
}

// A request deferred by a batch is never stranded: a writer of another
// thread that finds the queue idle leads and commits it; the batch's end
// then has nothing left to do.
TEST_F(CommitQueueAsyncTest, AnotherWriterCommitsWhatABatchDeferred) {
  AsyncResult deferred;
  {
    CommitBatch batch;
    CommitAsync(PutRequest("a"), deferred);
    EXPECT_FALSE(deferred.done.HasBeenNotified());
    std::thread other([this] { ASSERT_OK(queue_->Commit(PutRequest("b"))); });
    other.join();
    ASSERT_TRUE(deferred.done.HasBeenNotified());
    EXPECT_NE(deferred.thread, std::this_thread::get_id());
    EXPECT_EQ(log_->LastSequence(), 2u);
  }  // the destructor flushes: nothing waits
  ASSERT_OK(deferred.versions);
  EXPECT_EQ(log_->LastSequence(), 2u);

  // Without a batch the caller leads at once again.
  AsyncResult after;
  CommitAsync(PutRequest("c"), after);
  ASSERT_TRUE(after.done.HasBeenNotified());
  EXPECT_EQ(after.thread, std::this_thread::get_id());
}

// A blocking caller leads only its own group: what queued behind it goes to
// the committer thread, and the asynchronous writers are answered there.
TEST_F(CommitQueueAsyncTest, BlockingLeaderHandsTheRestToTheCommitter) {
  absl::Notification in_prepare, release;
  CommitQueue::Request slow = PutRequest("slow");
  slow.exclusive = true;  // a group of its own
  slow.prepare = [&](absl::Span<const Version> versions, rocksdb::WriteBatch& batch) {
    in_prepare.Notify();
    release.WaitForNotification();
    batch.Put(db_->records(), "slow", versions[0].ToString());
    return absl::OkStatus();
  };
  std::thread::id leader_thread;
  std::thread leader([&] {
    leader_thread = std::this_thread::get_id();
    EXPECT_OK(queue_->Commit(std::move(slow)));
  });
  ASSERT_TRUE(in_prepare.WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::vector<std::unique_ptr<AsyncResult>> results;
  for (int i = 0; i < 5; ++i) {
    results.push_back(std::make_unique<AsyncResult>());
    CommitAsync(PutRequest(absl::StrCat("queued", i)), *results.back());
    // Queued behind the leader, not led by this thread.
    EXPECT_FALSE(results.back()->done.HasBeenNotified());
  }
  release.Notify();
  leader.join();
  for (auto& result : results) {
    ASSERT_TRUE(result->done.WaitForNotificationWithTimeout(absl::Seconds(10)));
    ASSERT_OK(result->versions);
    EXPECT_NE(result->thread, leader_thread);
    EXPECT_NE(result->thread, std::this_thread::get_id());
  }
  EXPECT_EQ(log_->LastSequence(), 6u);
}

// Blocking and asynchronous writers from several threads (and callbacks
// that enqueue more): every write is answered once, sequences are
// contiguous and versions grow with them.
TEST_F(CommitQueueAsyncTest, MixedWritersKeepTheLogContiguousAndOrdered) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100;
  std::atomic<int> answered = 0, errors = 0;
  auto count = [&](absl::StatusOr<std::vector<Version>> versions) {
    if (!versions.ok()) errors.fetch_add(1);
    answered.fetch_add(1);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = absl::StrCat("k", t, "-", i);
        if (i % 3 == 0) {
          count(queue_->Commit(PutRequest(key)));
        } else if (i % 3 == 1) {
          queue_->CommitAsync(PutRequest(key), count);
        } else {
          // A callback that enqueues a follow-up write.
          queue_->CommitAsync(PutRequest(key), [&, key](absl::StatusOr<std::vector<Version>> v) {
            count(std::move(v));
            queue_->CommitAsync(PutRequest(key + "-again"), count);
          });
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const int expected = kThreads * (kPerThread + kPerThread / 3);
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(answered.load(), expected); }, absl::Seconds(30));
  EXPECT_EQ(errors.load(), 0);

  ASSERT_EQ(log_->LastSequence(), static_cast<uint64_t>(expected));
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> all, log_->Read(1, expected + 1, 64 << 20));
  ASSERT_EQ(all.size(), static_cast<size_t>(expected));
  std::set<std::string> keys;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].sequence, i + 1);
    keys.insert(all[i].entry.key());
    if (i > 0) {
      EXPECT_LT(Version::FromProto(all[i - 1].entry.version()),
                Version::FromProto(all[i].entry.version()));
    }
  }
  EXPECT_EQ(keys.size(), static_cast<size_t>(expected));
}

}  // namespace
}  // namespace kv::central
