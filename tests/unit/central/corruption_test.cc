// Malformed stored data is reported as DATA_LOSS, never a crash.

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "central/storage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using ::kv::testing::StatusIs;

class CorruptionTest : public StorageTest {
 protected:
  // Closes the storage and writes `value` under `key` in column family `cf`.
  void RawPut(const std::string& cf, const std::string& key,
              const std::string& value) {
    Close();
    std::vector<std::string> names;
    ASSERT_TRUE(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), options_.data_dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names)
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(
        rocksdb::DBOptions(), options_.data_dir, descriptors, &handles, &raw);
    ASSERT_TRUE(s.ok()) << s.ToString();
    std::unique_ptr<rocksdb::DB> db(raw);
    const size_t index =
        std::find(names.begin(), names.end(), cf) - names.begin();
    ASSERT_LT(index, names.size());
    s = db->Put(rocksdb::WriteOptions(), handles[index], key, value);
    EXPECT_TRUE(s.ok()) << s.ToString();
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    }
  }
};

TEST_F(CorruptionTest, MalformedRecordIsDataLoss) {
  Put("good", "v");
  ASSERT_NO_FATAL_FAILURE(RawPut("records", ns_ + "bad", "\x07garbage"));
  ASSERT_NO_FATAL_FAILURE(RawPut("key_index", ns_ + "bad", "\x07garbage"));  // lists read it
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get("good"), "v");
  EXPECT_THAT(storage_->Get(ns_, "bad"), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(storage_->GetMany(ns_, {"good", "bad"}),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(storage_->List(ns_, "", 10, ""),
              StatusIs(absl::StatusCode::kDataLoss));
  // The compaction filter keeps what it cannot decode.
  EXPECT_OK(storage_->CompactForTesting());
  EXPECT_THAT(storage_->Get(ns_, "bad"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(CorruptionTest, MalformedChangeLogEntryIsDataLoss) {
  Put("a", "1");
  std::string key(8, '\0');
  key[7] = 2;  // sequence 2 (the put)
  ASSERT_NO_FATAL_FAILURE(RawPut("changelog", key, "\xff\xff\xff"));
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_THAT(storage_->change_log().Read(2, 10, 1 << 20),
              StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> first,
                       storage_->change_log().Read(1, 1, 1 << 20));
  EXPECT_EQ(first.size(), 1u);
}

TEST_F(CorruptionTest, MalformedMetaOrNamespaceFailsOpen) {
  ASSERT_NO_FATAL_FAILURE(RawPut("meta", "max_version", "short"));
  EXPECT_THAT(Storage::Open(options_, clock_),
              StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_NO_FATAL_FAILURE(RawPut("meta", "max_version", std::string(16, '\0')));
  ASSERT_NO_FATAL_FAILURE(RawPut("namespaces", "n/" + ns_, "\xff"));
  EXPECT_THAT(Storage::Open(options_, clock_),
              StatusIs(absl::StatusCode::kDataLoss));
  ASSERT_NO_FATAL_FAILURE(RawPut("changelog", "bad key", "x"));
  EXPECT_THAT(Storage::Open(options_, clock_),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace kv::central
