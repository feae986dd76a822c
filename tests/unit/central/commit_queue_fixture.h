#ifndef KV_TESTS_UNIT_CENTRAL_COMMIT_QUEUE_FIXTURE_H_
#define KV_TESTS_UNIT_CENTRAL_COMMIT_QUEUE_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>

#include "central/change_log_impl.h"
#include "central/commit_queue.h"
#include "central/rocks_db.h"
#include "common/hlc.h"
#include "gtest/gtest.h"
#include "tests/harness/simulated_clock.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::central {

// A CommitQueue alone on a fresh RocksDB and change log (node 3, simulated
// clock), with requests that write key -> version in the records family.
class CommitQueueFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, kv::testing::TempDir::Create("commit-queue"));
    RocksDbOptions options;
    options.data_dir = dir_->Path("db");
    ASSERT_OK_AND_ASSIGN(db_, RocksDb::Open(std::move(options)));
    ASSERT_OK_AND_ASSIGN(log_, ChangeLogImpl::Open(*db_));
    queue_ = std::make_unique<CommitQueue>(CommitQueue::Options(), *db_, *log_, hlc_, clock_);
  }

  // A request writing key -> its version in the records column family.
  CommitQueue::Request PutRequest(const std::string& key) {
    CommitQueue::Request request;
    kv::storage::v1::ChangeEntry entry;
    entry.set_kind(kv::storage::v1::ChangeEntry::PUT);
    entry.set_key(key);
    request.entries.push_back(entry);
    request.bytes = key.size();
    request.prepare = [this, key](absl::Span<const Version> versions,
                                  rocksdb::WriteBatch& batch) {
      batch.Put(db_->records(), key, versions[0].ToString());
      return absl::OkStatus();
    };
    return request;
  }

  kv::testing::SimulatedClock clock_;
  Hlc hlc_{clock_, 3};
  std::unique_ptr<kv::testing::TempDir> dir_;
  std::unique_ptr<RocksDb> db_;
  std::unique_ptr<ChangeLogImpl> log_;
  std::unique_ptr<CommitQueue> queue_;
};

}  // namespace kv::central

#endif  // KV_TESTS_UNIT_CENTRAL_COMMIT_QUEUE_FIXTURE_H_
