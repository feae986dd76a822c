// Expired records and old tombstones leave the disk through the records
// compaction filter (also for values in blob files), and their key index
// entries with them. The DB is inspected raw, read-only, with the storage
// closed.

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

using ::testing::Contains;
using ::testing::Not;

struct RawRecords {
  std::vector<std::string> keys;  // user keys, namespace id stripped
  std::vector<std::string> index_keys;  // the same from the key index
  uint64_t blob_files = 0;
};

class ExpiryTest : public StorageTest {
 protected:
  // Closes the storage and reads the records column family directly.
  RawRecords ReadRaw() {
    Close();
    RawRecords out;
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
        {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
        {"records", rocksdb::ColumnFamilyOptions()},
        {"key_index", rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::OpenForReadOnly(
        rocksdb::DBOptions(), options_.data_dir, descriptors, &handles, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return out;
    std::unique_ptr<rocksdb::DB> db(raw);
    for (auto [handle, keys] : {std::pair{handles[1], &out.keys},
                                std::pair{handles[2], &out.index_keys}}) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handle));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        keys->push_back(it->key().ToString().substr(32));
      }
      EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    }
    // The key index's compaction filter keeps and drops the same records.
    EXPECT_EQ(out.index_keys, out.keys);
    EXPECT_TRUE(db->GetIntProperty(handles[1], "rocksdb.num-blob-files",
                                   &out.blob_files));
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    }
    return out;
  }
};

TEST_F(ExpiryTest, ExpiredRecordsAreRemovedByCompaction) {
  Put("ttl", "v", NowSeconds() + 60);
  Put("keep", "v");
  ASSERT_OK(storage_->CompactForTesting());
  EXPECT_THAT(ReadRaw().keys, Contains("ttl"));  // not expired yet
  ASSERT_NO_FATAL_FAILURE(Reopen());

  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(Get("ttl"), "<none>");  // invisible at once
  ASSERT_OK(storage_->CompactForTesting());
  RawRecords raw = ReadRaw();
  EXPECT_THAT(raw.keys, Not(Contains("ttl")));
  EXPECT_THAT(raw.keys, Contains("keep"));
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get("keep"), "v");
}

TEST_F(ExpiryTest, ExpiredBlobValueIsRemovedByCompaction) {
  const std::string big(100 * 1024, 'b');
  ASSERT_GT(big.size(), options_.min_blob_bytes);
  Put("big-ttl", big, NowSeconds() + 60);
  ASSERT_OK(storage_->Flush());
  Put("big-keep", big + "!");
  ASSERT_OK(storage_->Flush());
  RawRecords raw = ReadRaw();
  EXPECT_THAT(raw.keys, Contains("big-ttl"));
  EXPECT_EQ(raw.blob_files, 2u);  // the values live in blob files
  ASSERT_NO_FATAL_FAILURE(Reopen());

  clock_.Advance(absl::Seconds(61));
  EXPECT_EQ(Get("big-ttl"), "<none>");
  ASSERT_OK(storage_->CompactForTesting());
  raw = ReadRaw();
  EXPECT_THAT(raw.keys, Not(Contains("big-ttl")));
  EXPECT_THAT(raw.keys, Contains("big-keep"));
  EXPECT_EQ(raw.blob_files, 1u);  // the expired value's blob file is gone
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get("big-keep"), big + "!");
}

TEST_F(ExpiryTest, TombstonesArePurgedAfterGrace) {
  Put("deleted", "v");
  Delete("deleted");
  Put("live", "v");
  clock_.Advance(options_.tombstone_grace - absl::Seconds(1));
  ASSERT_OK(storage_->CompactForTesting());
  EXPECT_THAT(ReadRaw().keys,
              Contains("deleted"));  // the tombstone, within grace
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get("deleted"), "<none>");

  clock_.Advance(absl::Seconds(2));
  ASSERT_OK(storage_->CompactForTesting());
  RawRecords raw = ReadRaw();
  EXPECT_THAT(raw.keys, Not(Contains("deleted")));
  EXPECT_THAT(raw.keys, Contains("live"));
}

// Past the grace, a tombstone is purged only before the purge horizon (the
// time before which every central holds every write): a central that has
// not caught up keeps it from being purged anywhere. A "not found" read
// reports the tombstone's version while it is held.
TEST_F(ExpiryTest, TombstonesWaitForThePurgeHorizon) {
  Put("deleted", "v");
  Delete("deleted");
  auto dead_version = [&] {
    std::vector<Version> dead;
    absl::StatusOr<std::vector<std::optional<Record>>> records =
        storage_->GetMany(ns_, {"deleted"}, &dead);
    EXPECT_OK(records);
    EXPECT_FALSE(records.ok() && (*records)[0].has_value());
    return dead.empty() ? Version() : dead[0];
  };
  const Version tombstone = dead_version();
  ASSERT_FALSE(tombstone.IsZero());

  storage_->SetTombstonePurgeHorizon(absl::InfinitePast());  // a peer never caught up
  clock_.Advance(options_.tombstone_grace + absl::Seconds(1));
  ASSERT_OK(storage_->CompactForTesting());
  EXPECT_EQ(dead_version(), tombstone);

  // Every central holds writes up to just before the delete: still kept.
  storage_->SetTombstonePurgeHorizon(absl::FromUnixMillis(
      static_cast<int64_t>(tombstone.physical_ms)));
  ASSERT_OK(storage_->CompactForTesting());
  EXPECT_EQ(dead_version(), tombstone);

  // ... and just after it: purged.
  storage_->SetTombstonePurgeHorizon(absl::FromUnixMillis(
      static_cast<int64_t>(tombstone.physical_ms) + 1));
  ASSERT_OK(storage_->CompactForTesting());
  EXPECT_TRUE(dead_version().IsZero()) << "the tombstone was not purged";
}

}  // namespace
}  // namespace kv::central
