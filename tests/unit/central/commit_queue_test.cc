// CommitQueue on its own: rejected requests and failed writes keep the
// change log contiguous.

#include "central/commit_queue.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "central/change_log_impl.h"
#include "central/rocks_db.h"
#include "common/hlc.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "tests/harness/simulated_clock.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"
#include "tests/unit/central/commit_queue_fixture.h"

namespace kv::central {
namespace {

using ::kv::storage::v1::ChangeEntry;
using ::kv::testing::StatusIs;

using CommitQueueTest = CommitQueueFixture;

TEST_F(CommitQueueTest, RejectedPrepareWritesNothing) {
  ASSERT_OK(queue_->Commit(PutRequest("a")));
  CommitQueue::Request bad = PutRequest("b");
  bad.prepare = [this](absl::Span<const Version>, rocksdb::WriteBatch& batch) {
    batch.Put(db_->records(), "b", "half-written");
    return absl::FailedPreconditionError("no");
  };
  EXPECT_THAT(queue_->Commit(std::move(bad)),
              StatusIs(absl::StatusCode::kFailedPrecondition, "no"));
  EXPECT_EQ(log_->LastSequence(), 1u);
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> b,
                       db_->Get(db_->records(), "b"));
  EXPECT_FALSE(b.has_value());

  ASSERT_OK_AND_ASSIGN(std::vector<Version> versions,
                       queue_->Commit(PutRequest("c")));
  EXPECT_EQ(log_->LastSequence(), 2u);
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> all,
                       log_->Read(1, 10, 1 << 20));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].entry.key(), "c");
  EXPECT_EQ(Version::FromProto(all[1].entry.version()), versions[0]);
}

TEST_F(CommitQueueTest, RocksDbWriteErrorFailsTheGroup) {
  // A column family handle of another DB: its id does not exist in db_, so
  // RocksDB refuses the batch.
  std::unique_ptr<kv::testing::TempDir> other_dir;
  ASSERT_OK_AND_ASSIGN(other_dir, kv::testing::TempDir::Create("other"));
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, other_dir->Path("db"), &raw).ok());
  std::unique_ptr<rocksdb::DB> other(raw);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ASSERT_TRUE(other
                  ->CreateColumnFamilies(rocksdb::ColumnFamilyOptions(),
                                         {"a", "b", "c", "d", "e", "f", "g"},
                                         &handles)
                  .ok());
  ASSERT_GE(handles.back()->GetID(), 7u);

  ASSERT_OK(queue_->Commit(PutRequest("a")));
  CommitQueue::Request poisoned = PutRequest("x");
  rocksdb::ColumnFamilyHandle* foreign = handles.back();
  poisoned.prepare = [foreign](absl::Span<const Version>,
                               rocksdb::WriteBatch& batch) {
    batch.Put(foreign, "x", "y");
    return absl::OkStatus();
  };
  int committed_hooks = 0;
  poisoned.on_commit = [&](absl::Span<const Version>) { ++committed_hooks; };
  EXPECT_THAT(queue_->Commit(std::move(poisoned)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(committed_hooks, 0);
  EXPECT_EQ(log_->LastSequence(), 1u);

  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    EXPECT_TRUE(other->DestroyColumnFamilyHandle(handle).ok());
  }
}

TEST_F(CommitQueueTest, FailedWriteFailsEveryWriterAndReusesSequences) {
  std::atomic<bool> fail = false;
  CommitQueue::Options options;
  options.write_error_for_testing = [&] {
    return fail.load() ? absl::UnavailableError("disk on fire")
                       : absl::OkStatus();
  };
  queue_ = std::make_unique<CommitQueue>(options, *db_, *log_, hlc_, clock_);
  ASSERT_OK(queue_->Commit(PutRequest("a")));

  fail = true;
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      absl::StatusOr<std::vector<Version>> result =
          queue_->Commit(PutRequest(absl::StrCat("f", t)));
      if (absl::IsUnavailable(result.status())) failures.fetch_add(1);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 8);
  EXPECT_EQ(log_->LastSequence(), 1u);
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> f0,
                       db_->Get(db_->records(), "f0"));
  EXPECT_FALSE(f0.has_value());

  fail = false;
  ASSERT_OK(queue_->Commit(PutRequest("b")));
  EXPECT_EQ(log_->LastSequence(), 2u);
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> all,
                       log_->Read(1, 10, 1 << 20));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].entry.key(), "a");
  EXPECT_EQ(all[1].sequence, 2u);
  EXPECT_EQ(all[1].entry.key(), "b");
}

}  // namespace
}  // namespace kv::central
