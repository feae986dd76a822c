// The change log: contiguous sequences in commit order under concurrent
// writers, paged reads, WaitFor, listeners, trimming, group commit.

#include "central/change_log.h"

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "central/storage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/storage.pb.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using ::kv::storage::v1::ChangeEntry;
using ::kv::storage::v1::StoredNamespace;
using ::kv::testing::StatusIs;

class ChangeLogTest : public StorageTest {
 protected:
  ChangeLog& log() { return storage_->change_log(); }

  // Every entry from `from`, in pages of `page` entries.
  std::vector<SequencedChange> ReadAll(uint64_t from, size_t page) {
    std::vector<SequencedChange> out;
    while (true) {
      absl::StatusOr<std::vector<SequencedChange>> chunk =
          log().Read(from, page, 1 << 30);
      EXPECT_OK(chunk);
      if (!chunk.ok() || chunk->empty()) return out;
      EXPECT_LE(chunk->size(), page);
      from = chunk->back().sequence + 1;
      for (SequencedChange& change : *chunk) out.push_back(std::move(change));
    }
  }
};

TEST_F(ChangeLogTest, EntriesDescribeMutations) {
  const Version put =
      Put("small", "tiny value", NowSeconds() + 100, R"({"m":1})");
  const Version big =
      Put("big", std::string(options_.inline_value_bytes + 1, 'x'));
  ASSERT_OK_AND_ASSIGN(Version del, storage_->Delete(ns_, "small"));
  std::vector<SequencedChange> all = ReadAll(1, 100);
  ASSERT_EQ(all.size(), 4u);

  const ChangeEntry& create = all[0].entry;
  EXPECT_EQ(create.kind(), ChangeEntry::NAMESPACE_CREATE);
  EXPECT_EQ(create.namespace_id(), ns_);
  StoredNamespace stored;
  ASSERT_TRUE(stored.ParseFromString(create.value()));
  EXPECT_EQ(stored.title(), "main");
  EXPECT_EQ(stored.account_id(), "acct");

  const ChangeEntry& small = all[1].entry;
  EXPECT_EQ(all[1].sequence, 2u);
  EXPECT_EQ(small.kind(), ChangeEntry::PUT);
  EXPECT_EQ(small.namespace_id(), ns_);
  EXPECT_EQ(small.key(), "small");
  EXPECT_EQ(Version::FromProto(small.version()), put);
  EXPECT_EQ(small.commit_time_ms(), static_cast<int64_t>(put.physical_ms));
  EXPECT_EQ(small.apply_time_ms(), absl::ToUnixMillis(clock_.TimeNow()));
  EXPECT_TRUE(small.value_included());
  EXPECT_EQ(small.value(), "tiny value");
  EXPECT_EQ(small.metadata(), R"({"m":1})");
  EXPECT_EQ(small.expiration(), NowSeconds() + 100);

  const ChangeEntry& large = all[2].entry;
  EXPECT_EQ(large.kind(), ChangeEntry::PUT);
  EXPECT_EQ(Version::FromProto(large.version()), big);
  EXPECT_FALSE(large.value_included());
  EXPECT_EQ(large.value(), "");

  EXPECT_EQ(all[3].entry.kind(), ChangeEntry::DELETE);
  EXPECT_EQ(all[3].entry.key(), "small");
  EXPECT_EQ(Version::FromProto(all[3].entry.version()), del);
}

TEST_F(ChangeLogTest, ContiguousUnderConcurrentWriters) {
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 150;
  const uint64_t start = log().LastSequence();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOpsPerThread; ++i) {
        const std::string key = absl::StrCat("t", t, "/", i);
        if (i % 5 == 4) {
          EXPECT_OK(storage_->Delete(ns_, key));
        } else if (i % 5 == 3) {
          std::vector<PutOp> ops(2);
          ops[0].key = key;
          ops[0].value = "a";
          ops[1].key = key + "b";
          ops[1].value = "b";
          EXPECT_OK(storage_->PutMany(ns_, std::move(ops)));
        } else {
          EXPECT_OK(storage_->Put(ns_, PutOp{key, "v", std::nullopt, 0}));
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  // Per thread: 150 ops, 30 of which write 2 entries.
  const uint64_t expected =
      start + kThreads * (kOpsPerThread + kOpsPerThread / 5);
  EXPECT_EQ(log().LastSequence(), expected);
  EXPECT_EQ(log().FirstSequence(), 1u);

  std::vector<SequencedChange> all = ReadAll(1, 97);
  ASSERT_EQ(all.size(), expected);
  for (size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i].sequence, i + 1);
    if (i > 0) {
      // Versions follow commit order.
      ASSERT_LT(Version::FromProto(all[i - 1].entry.version()),
                Version::FromProto(all[i].entry.version()))
          << "at sequence " << i + 1;
    }
  }
  // Reading past the end is empty, not an error.
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> none,
                       log().Read(expected + 1, 10, 1000));
  EXPECT_TRUE(none.empty());
}

TEST_F(ChangeLogTest, ReadHonoursMaxBytesButReturnsAtLeastOne) {
  for (int i = 0; i < 10; ++i) Put(absl::StrCat("k", i), std::string(500, 'v'));
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> one, log().Read(2, 100, 1));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].sequence, 2u);
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> some,
                       log().Read(2, 100, 2000));
  EXPECT_GE(some.size(), 2u);
  EXPECT_LT(some.size(), 10u);
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> few,
                       log().Read(2, 3, 1 << 20));
  EXPECT_EQ(few.size(), 3u);
}

TEST_F(ChangeLogTest, WaitForWakesOnCommitAndTimesOut) {
  const uint64_t last = log().LastSequence();
  // Nothing is coming: returns the current last sequence after the timeout.
  EXPECT_EQ(log().WaitFor(last + 1, absl::Milliseconds(20)), last);
  // Already there: returns at once.
  EXPECT_EQ(log().WaitFor(last, absl::Hours(1)), last);

  std::atomic<uint64_t> woke_with = 0;
  absl::Notification waiting;
  std::thread waiter([&] {
    waiting.Notify();
    woke_with = log().WaitFor(last + 1, absl::Seconds(30));
  });
  waiting.WaitForNotification();
  Put("wake", "up");
  waiter.join();
  EXPECT_GE(woke_with.load(), last + 1);
}

TEST_F(ChangeLogTest, ListenersAreCalledAfterEachCommit) {
  std::atomic<uint64_t> seen = 0;
  std::atomic<int> calls = 0;
  const int id = log().AddListener([&](uint64_t sequence) {
    seen = std::max(seen.load(), sequence);
    calls.fetch_add(1);
  });
  Put("a", "1");
  EXPECT_EQ(seen.load(), log().LastSequence());
  Put("b", "2");
  EXPECT_EQ(seen.load(), log().LastSequence());
  EXPECT_EQ(calls.load(), 2);
  log().RemoveListener(id);
  Put("c", "3");
  EXPECT_EQ(calls.load(), 2);
  EXPECT_LT(seen.load(), log().LastSequence());
}

// Resume by time (failover): the first entry applied at or after a time, and
// whether the retained log reaches back that far.
TEST_F(ChangeLogTest, FindAppliedAtOrAfterSearchesByApplyTime) {
  const absl::Time start = clock_.TimeNow();  // the namespace: sequence 1
  for (int i = 0; i < 10; ++i) {               // sequences 2..11, one second apart
    clock_.Advance(absl::Seconds(1));
    Put(absl::StrCat("k", i), "v");
  }
  auto find = [&](absl::Time t) {
    absl::StatusOr<ChangeLog::TimePosition> p = log().FindAppliedAtOrAfter(absl::ToUnixMillis(t));
    EXPECT_OK(p);
    return p.ok() ? *p : ChangeLog::TimePosition{};
  };
  EXPECT_EQ(find(start).sequence, 1u);
  EXPECT_TRUE(find(start).covered);
  EXPECT_FALSE(find(start - absl::Seconds(1)).covered);  // before the log began
  EXPECT_EQ(find(start + absl::Seconds(3)).sequence, 4u);
  EXPECT_EQ(find(start + absl::Milliseconds(3500)).sequence, 5u);
  EXPECT_EQ(find(start + absl::Hours(1)).sequence, 12u);  // nothing after: the next one

  // After a trim the log covers only times from its first entry on.
  ASSERT_OK(log().TrimAppliedBefore(start + absl::Seconds(5)).status());
  EXPECT_EQ(log().FirstSequence(), 6u);
  EXPECT_FALSE(find(start + absl::Seconds(2)).covered);
  const ChangeLog::TimePosition later = find(start + absl::Seconds(7));
  EXPECT_TRUE(later.covered);
  EXPECT_EQ(later.sequence, 8u);
}

TEST_F(ChangeLogTest, TrimRemovesOldEntriesAndKeepsTheLast) {
  for (int i = 0; i < 9; ++i)
    Put(absl::StrCat("old", i), "v");  // sequences 2..10
  clock_.Advance(absl::Hours(2));
  const absl::Time recent = clock_.TimeNow();
  for (int i = 0; i < 5; ++i) Put(absl::StrCat("new", i), "v");  // 11..15
  EXPECT_EQ(log().LastSequence(), 15u);

  ASSERT_OK_AND_ASSIGN(uint64_t removed,
                       log().TrimAppliedBefore(recent - absl::Hours(1)));
  EXPECT_EQ(removed, 10u);
  EXPECT_EQ(log().FirstSequence(), 11u);
  EXPECT_THAT(log().Read(1, 10, 1 << 20),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(log().Read(10, 10, 1 << 20),
              StatusIs(absl::StatusCode::kOutOfRange));
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> rest,
                       log().Read(11, 100, 1 << 20));
  ASSERT_EQ(rest.size(), 5u);
  EXPECT_EQ(rest.front().sequence, 11u);
  EXPECT_EQ(rest.front().entry.key(), "new0");

  // Trimming everything keeps the last entry.
  ASSERT_OK_AND_ASSIGN(removed,
                       log().TrimAppliedBefore(recent + absl::Hours(10)));
  EXPECT_EQ(removed, 4u);
  EXPECT_EQ(log().FirstSequence(), 15u);
  EXPECT_EQ(log().LastSequence(), 15u);
  ASSERT_OK_AND_ASSIGN(removed,
                       log().TrimAppliedBefore(recent + absl::Hours(10)));
  EXPECT_EQ(removed, 0u);

  // The range survives a restart, and appends continue after it.
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(log().FirstSequence(), 15u);
  EXPECT_EQ(log().LastSequence(), 15u);
  EXPECT_THAT(log().Read(14, 10, 1 << 20),
              StatusIs(absl::StatusCode::kOutOfRange));
  Put("after", "v");
  ASSERT_OK_AND_ASSIGN(rest, log().Read(15, 100, 1 << 20));
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[1].sequence, 16u);
  EXPECT_EQ(rest[1].entry.key(), "after");
}

TEST_F(ChangeLogTest, GroupCommitSharesWalSyncs) {
  ASSERT_TRUE(options_.sync_writes);
  constexpr int kThreads = 16;
  constexpr int kPutsPerThread = 200;
  const uint64_t syncs_before = storage_->WalSyncsForTesting();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPutsPerThread; ++i) {
        EXPECT_OK(storage_->Put(
            ns_, PutOp{absl::StrCat(t, "/", i), "v", std::nullopt, 0}));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const uint64_t syncs = storage_->WalSyncsForTesting() - syncs_before;
  EXPECT_GT(syncs, 0u);
  EXPECT_LT(syncs, static_cast<uint64_t>(kThreads * kPutsPerThread));
  EXPECT_EQ(log().LastSequence(), 1u + kThreads * kPutsPerThread);
  RecordProperty("wal_syncs", static_cast<int>(syncs));
}

}  // namespace
}  // namespace kv::central
