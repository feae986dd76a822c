// The records column family's memtable (RocksDbOptions::records_memtable_-
// buckets): a hash table or RocksDB's skiplist, the same answers either way.
// Point reads, MultiGet, an iterator in key order over the whole family
// (NewIterator forces total-order seeks, which the hash memtable needs),
// range deletions, and all of it again after a flush, after a reopen that
// replays the WAL into a new memtable, and after a restart with the other
// kind of memtable.

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "central/rocks_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/write_batch.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::central {
namespace {

constexpr int kKeys = 500;

std::string Key(int i) { return absl::StrFormat("ns/key-%04d", i); }
std::string Value(int i) { return absl::StrCat("value-", i); }

class RecordsMemtableTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, kv::testing::TempDir::Create("records-memtable"));
    ASSERT_NO_FATAL_FAILURE(Reopen());
  }

  void Reopen() { ReopenWith(GetParam()); }

  void ReopenWith(size_t buckets) {
    db_.reset();
    RocksDbOptions options;
    options.data_dir = dir_->path();
    options.records_memtable_buckets = buckets;
    ASSERT_OK_AND_ASSIGN(db_, RocksDb::Open(std::move(options)));
  }

  // Every key of the records family, in iteration order.
  std::vector<std::string> Scan() {
    std::vector<std::string> keys;
    std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(db_->records(), {});
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
    EXPECT_OK(RocksDb::IteratorStatus(*it));
    return keys;
  }

  // Writes keys [0, kKeys) in a shuffled order, then deletes 100..199 with a
  // range deletion and overwrites key 7.
  void Fill() {
    std::vector<int> order(kKeys);
    for (int i = 0; i < kKeys; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937(42));
    rocksdb::WriteBatch batch;
    for (int i : order) ASSERT_TRUE(batch.Put(db_->records(), Key(i), Value(i)).ok());
    ASSERT_OK(db_->Write(batch, /*sync=*/true));
    rocksdb::WriteBatch more;
    ASSERT_TRUE(more.DeleteRange(db_->records(), Key(100), Key(200)).ok());
    ASSERT_TRUE(more.Put(db_->records(), Key(7), "overwritten").ok());
    ASSERT_OK(db_->Write(more, /*sync=*/true));
  }

  void ExpectContents() {
    std::vector<std::string> expected;
    for (int i = 0; i < kKeys; ++i) {
      if (i < 100 || i >= 200) expected.push_back(Key(i));
    }
    EXPECT_EQ(Scan(), expected);

    ASSERT_OK_AND_ASSIGN(std::optional<std::string> seven, db_->Get(db_->records(), Key(7)));
    EXPECT_EQ(seven, "overwritten");
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> gone, db_->Get(db_->records(), Key(150)));
    EXPECT_EQ(gone, std::nullopt);
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> absent,
                         db_->Get(db_->records(), "ns/key-9999"));
    EXPECT_EQ(absent, std::nullopt);

    const std::vector<absl::StatusOr<std::optional<std::string>>> many =
        db_->MultiGet(db_->records(), {Key(499), Key(150), Key(0), "ns/key-"});
    ASSERT_EQ(many.size(), 4u);
    for (const auto& one : many) ASSERT_OK(one.status());
    EXPECT_EQ(*many[0], Value(499));
    EXPECT_EQ(*many[1], std::nullopt);
    EXPECT_EQ(*many[2], Value(0));
    EXPECT_EQ(*many[3], std::nullopt);

    // A seek lands in the middle of the order and goes on from there.
    std::unique_ptr<rocksdb::Iterator> it = db_->NewIterator(db_->records(), {});
    it->Seek("ns/key-0099x");
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key().ToString(), Key(200));
    it->Next();
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key().ToString(), Key(201));
    it->SeekForPrev(Key(150));
    ASSERT_TRUE(it->Valid());
    EXPECT_EQ(it->key().ToString(), Key(99));
  }

  std::unique_ptr<kv::testing::TempDir> dir_;
  std::unique_ptr<RocksDb> db_;
};

TEST_P(RecordsMemtableTest, AnswersFromTheMemtable) {
  ASSERT_NO_FATAL_FAILURE(Fill());
  ExpectContents();
}

TEST_P(RecordsMemtableTest, AnswersAfterAFlush) {
  ASSERT_NO_FATAL_FAILURE(Fill());
  ASSERT_OK(db_->FlushAll());
  ExpectContents();
}

TEST_P(RecordsMemtableTest, AnswersAfterTheWalIsReplayed) {
  ASSERT_NO_FATAL_FAILURE(Fill());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ExpectContents();
}

// The flag may change on any restart (docs/operations.md): data written
// under one memtable, in the WAL or flushed to files that recorded the
// other's prefix extractor, reads the same under the other.
TEST_P(RecordsMemtableTest, AnswersAfterARestartWithTheOtherMemtable) {
  const size_t other = GetParam() == 0 ? size_t{1} << 18 : 0;
  ASSERT_NO_FATAL_FAILURE(Fill());
  ASSERT_NO_FATAL_FAILURE(ReopenWith(other));  // from the WAL
  ExpectContents();
  ASSERT_OK(db_->FlushAll());
  ASSERT_NO_FATAL_FAILURE(ReopenWith(GetParam()));  // from files
  ExpectContents();
}

INSTANTIATE_TEST_SUITE_P(HashOrSkiplist, RecordsMemtableTest,
                         ::testing::Values(size_t{1} << 18, size_t{16}, size_t{0}),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return info.param == 0 ? std::string("Skiplist")
                                                  : absl::StrCat("Hash", info.param);
                         });

TEST(RecordsMemtableOptionsTest, TooManyBucketsAreRefusedBeforeTheDataDirIsTouched) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<kv::testing::TempDir> dir,
                       kv::testing::TempDir::Create("records-memtable"));
  RocksDbOptions options;
  options.data_dir = dir->Path("data");
  options.records_memtable_buckets = kMaxRecordsMemtableBuckets + 1;
  absl::StatusOr<std::unique_ptr<RocksDb>> db = RocksDb::Open(std::move(options));
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(db.status().message(),
              ::testing::HasSubstr("records_memtable_buckets must be at most 4194304, got 4194305"));
  EXPECT_FALSE(std::filesystem::exists(dir->Path("data")));
}

}  // namespace
}  // namespace kv::central
