// Zero-filled WAL files (central/prefilled_wal_file_system.h): syncs
// overwrite, a crashed file's zero tail is skipped on recovery, and a
// cleanly closed file holds only its data.

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "central/prefilled_wal_file_system.h"
#include "central/rocks_db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/write_batch.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::central {
namespace {

constexpr size_t kChunk = 64 << 10;
constexpr int kWrites = 600;

std::string Key(int i) { return absl::StrCat("key-", i); }
// 300 bytes ending in 'x', so a WAL holding it ends in a non-zero byte.
std::string Value(int i) { return absl::StrCat(std::string(296, 'a' + i % 26), i % 10, "..x"); }

std::vector<std::filesystem::path> WalFiles(const std::string& dir) {
  std::vector<std::filesystem::path> wals;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (IsWalFileName(entry.path().string())) wals.push_back(entry.path());
  return wals;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class PrefilledWalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, kv::testing::TempDir::Create("prefilled-wal"));
  }

  absl::StatusOr<std::unique_ptr<RocksDb>> Open(const std::string& path,
                                                size_t prefill) {
    RocksDbOptions options;
    options.data_dir = path;
    options.wal_prefill_bytes = prefill;
    return RocksDb::Open(std::move(options));
  }

  void WriteSynced(RocksDb& db, int from, int to) {
    for (int i = from; i < to; ++i) {
      rocksdb::WriteBatch batch;
      ASSERT_TRUE(batch.Put(db.records(), Key(i), Value(i)).ok());
      ASSERT_OK(db.Write(batch, /*sync=*/true));
    }
  }

  void ExpectAll(RocksDb& db, int count) {
    for (int i = 0; i < count; ++i) {
      ASSERT_OK_AND_ASSIGN(std::optional<std::string> value, db.Get(db.records(), Key(i)));
      ASSERT_TRUE(value.has_value()) << Key(i);
      EXPECT_EQ(*value, Value(i));
    }
  }

  std::unique_ptr<kv::testing::TempDir> dir_;
};

TEST(WalFileNameTest, OnlyNumberedLogs) {
  EXPECT_TRUE(IsWalFileName("/data/db/000012.log"));
  EXPECT_TRUE(IsWalFileName("7.log"));
  EXPECT_FALSE(IsWalFileName("/data/db/LOG"));
  EXPECT_FALSE(IsWalFileName("/data/db/LOG.old.1700000000"));
  EXPECT_FALSE(IsWalFileName("/data/db/.log"));
  EXPECT_FALSE(IsWalFileName("/data/db/000012.sst"));
  EXPECT_FALSE(IsWalFileName("/data/db/MANIFEST-000005"));
  EXPECT_FALSE(IsWalFileName("/data/db/12a.log"));
  EXPECT_FALSE(IsWalFileName("/data/000012.log/OPTIONS-000007"));
}

// A process that dies leaves the live WAL with zeros past its data; a
// copy of the directory taken then is what a SIGKILL leaves on disk.
TEST_F(PrefilledWalTest, ZeroTailOfACrashedWalIsSkippedOnRecovery) {
  const std::string live = dir_->Path("live");
  const std::string crashed = dir_->Path("crashed");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RocksDb> db, Open(live, kChunk));
  ASSERT_NO_FATAL_FAILURE(WriteSynced(*db, 0, kWrites));

  const std::vector<std::filesystem::path> wals = WalFiles(live);
  ASSERT_EQ(wals.size(), 1u);
  const std::string wal = ReadFile(wals[0]);
  // Several chunks were filled (~190 KB of records), the file ends on a
  // chunk boundary, and past the data it is zeros.
  EXPECT_GT(wal.size(), 2 * kChunk);
  EXPECT_EQ(wal.size() % kChunk, 0u);
  const size_t data_end = wal.find_last_not_of('\0') + 1;
  EXPECT_LT(data_end, wal.size());
  EXPECT_EQ(wal[data_end - 1], 'x');

  std::filesystem::copy(live, crashed, std::filesystem::copy_options::recursive);
  std::filesystem::remove(std::filesystem::path(crashed) / "LOCK");
  db.reset();

  // RocksDB's own WAL reading recovers it (no prefill on this open), and
  // so does a prefilled one, which then keeps writing.
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<RocksDb> recovered, Open(crashed, 0));
    ASSERT_NO_FATAL_FAILURE(ExpectAll(*recovered, kWrites));
  }
  // Without a word of corruption or dropped bytes in RocksDB's log.
  const std::string info_log = ReadFile(std::filesystem::path(crashed) / "LOG");
  EXPECT_NE(info_log.find("Recovering log"), std::string::npos);
  EXPECT_EQ(info_log.find("orruption"), std::string::npos) << info_log;
  EXPECT_EQ(info_log.find("dropping"), std::string::npos) << info_log;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RocksDb> recovered, Open(crashed, kChunk));
  ASSERT_NO_FATAL_FAILURE(ExpectAll(*recovered, kWrites));
  ASSERT_NO_FATAL_FAILURE(WriteSynced(*recovered, kWrites, kWrites + 10));
  recovered.reset();
  ASSERT_OK_AND_ASSIGN(recovered, Open(crashed, kChunk));
  ASSERT_NO_FATAL_FAILURE(ExpectAll(*recovered, kWrites + 10));
}

TEST_F(PrefilledWalTest, CloseTruncatesTheWalToItsData) {
  const std::string path = dir_->Path("db");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RocksDb> db, Open(path, kChunk));
  ASSERT_NO_FATAL_FAILURE(WriteSynced(*db, 0, 100));
  const std::vector<std::filesystem::path> wals = WalFiles(path);
  ASSERT_EQ(wals.size(), 1u);
  EXPECT_EQ(std::filesystem::file_size(wals[0]), kChunk);
  db.reset();

  const std::string wal = ReadFile(wals[0]);
  ASSERT_FALSE(wal.empty());
  EXPECT_LT(wal.size(), kChunk);
  EXPECT_EQ(wal.back(), 'x');
  ASSERT_OK_AND_ASSIGN(db, Open(path, 0));
  ASSERT_NO_FATAL_FAILURE(ExpectAll(*db, 100));
}

// Syncs after the first in a chunk do not change the file's size or
// blocks: what makes them cheaper is that they overwrite.
TEST_F(PrefilledWalTest, SyncsWithinAChunkOverwriteWrittenBlocks) {
  const std::string path = dir_->Path("db");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<RocksDb> db, Open(path, kChunk));
  ASSERT_NO_FATAL_FAILURE(WriteSynced(*db, 0, 1));
  const std::vector<std::filesystem::path> wals = WalFiles(path);
  ASSERT_EQ(wals.size(), 1u);
  struct stat before {};
  ASSERT_EQ(::stat(wals[0].c_str(), &before), 0);
  ASSERT_NO_FATAL_FAILURE(WriteSynced(*db, 1, 50));
  struct stat after {};
  ASSERT_EQ(::stat(wals[0].c_str(), &after), 0);
  EXPECT_EQ(before.st_size, static_cast<off_t>(kChunk));
  EXPECT_EQ(after.st_size, before.st_size);
  // Blocks on disk, not a hole.
  EXPECT_GE(after.st_blocks * 512, after.st_size);
  EXPECT_EQ(after.st_blocks, before.st_blocks);
}

TEST_F(PrefilledWalTest, ChunkOutOfRangeIsRefused) {
  for (size_t bytes : {size_t{1}, kMinWalPrefillBytes - 1, kMaxWalPrefillBytes + 1}) {
    EXPECT_THAT(Open(dir_->Path("db"), bytes),
                kv::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                      ::testing::HasSubstr("wal_prefill_bytes must be 0 or between")))
        << bytes;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_->Path("db")));  // refused before any write
  EXPECT_OK(Open(dir_->Path("db"), kMinWalPrefillBytes).status());
}

}  // namespace
}  // namespace kv::central
