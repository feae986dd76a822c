#include "central/storage.h"

#include <string>
#include <vector>

#include "common/error_space.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using ::kv::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST_F(StorageTest, PutGetDeleteRoundTripWithMetadata) {
  const Version v1 = Put("greeting", "hello", 0, R"({"lang":"en"})");
  ASSERT_OK_AND_ASSIGN(std::optional<Record> record,
                       storage_->Get(ns_, "greeting"));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->value, "hello");
  EXPECT_EQ(record->metadata, std::optional<std::string>(R"({"lang":"en"})"));
  EXPECT_EQ(record->expiration, 0);
  EXPECT_EQ(record->version, v1);
  EXPECT_EQ(record->version.node_id, 7u);
  EXPECT_FALSE(record->tombstone);

  const Version v2 = Put("greeting", "bonjour");
  EXPECT_GT(v2, v1);
  ASSERT_OK_AND_ASSIGN(record, storage_->Get(ns_, "greeting"));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->value, "bonjour");
  EXPECT_EQ(record->metadata, std::nullopt);

  ASSERT_OK_AND_ASSIGN(Version v3, storage_->Delete(ns_, "greeting"));
  EXPECT_GT(v3, v2);
  EXPECT_EQ(Get("greeting"), "<none>");
  // Deleting a missing key succeeds.
  EXPECT_OK(storage_->Delete(ns_, "never-written"));
  EXPECT_EQ(Get("never-written"), "<none>");
}

TEST_F(StorageTest, BinaryValuesAndUnusualKeys) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  const std::vector<std::string> keys = {
      std::string("nul\0inside", 10),
      "unicode-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
      "slashes/a/b//c/",
      "\xff\xfe",
      " ",
      std::string(512, 'k')};
  for (const std::string& key : keys) Put(key, all_bytes + key);
  for (const std::string& key : keys) EXPECT_EQ(Get(key), all_bytes + key);
  // A key that is a prefix of another is its own record.
  EXPECT_EQ(Get("nul"), "<none>");
  Put("empty-value", "");
  ASSERT_OK_AND_ASSIGN(std::optional<Record> record,
                       storage_->Get(ns_, "empty-value"));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->value, "");
}

TEST_F(StorageTest, PutManyAndGetMany) {
  std::vector<PutOp> ops;
  for (int i = 0; i < 5; ++i) {
    PutOp op;
    op.key = "k" + std::to_string(i);
    op.value = "v" + std::to_string(i);
    ops.push_back(op);
  }
  PutOp dup;
  dup.key = "k0";
  dup.value = "later wins";
  ops.push_back(dup);
  ASSERT_OK_AND_ASSIGN(Version last, storage_->PutMany(ns_, ops));
  EXPECT_OK(storage_->DeleteMany(ns_, {"k3"}));
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::optional<Record>> records,
      storage_->GetMany(ns_, {"k0", "k1", "k3", "missing", "k4"}));
  ASSERT_EQ(records.size(), 5u);
  ASSERT_TRUE(records[0].has_value());
  EXPECT_EQ(records[0]->value, "later wins");
  EXPECT_EQ(records[0]->version, last);
  ASSERT_TRUE(records[1].has_value());
  EXPECT_EQ(records[1]->value, "v1");
  EXPECT_LT(records[1]->version, last);
  EXPECT_FALSE(records[2].has_value());
  EXPECT_FALSE(records[3].has_value());
  ASSERT_TRUE(records[4].has_value());
  EXPECT_EQ(records[4]->value, "v4");
}

TEST_F(StorageTest, RecordOpsOnMissingNamespaceAreNotFound) {
  const std::string missing(32, 'a');
  PutOp op;
  op.key = "k";
  op.value = "v";
  auto not_found = StatusIs(absl::StatusCode::kNotFound, "namespace not found");
  EXPECT_THAT(storage_->Put(missing, op), not_found);
  EXPECT_THAT(storage_->Delete(missing, "k"), not_found);
  EXPECT_THAT(storage_->Get(missing, "k"), not_found);
  EXPECT_THAT(storage_->GetMany(missing, {"k"}), not_found);
  EXPECT_THAT(storage_->List(missing, "", 10, ""), not_found);
  absl::StatusOr<Version> put = storage_->Put("short", op);
  EXPECT_THAT(put, not_found);
  std::optional<HttpDetail> detail = GetHttpDetail(put.status());
  ASSERT_TRUE(detail.has_value());
  EXPECT_EQ(detail->http_status, 404);
  EXPECT_EQ(detail->cf_code, kCfNamespaceNotFound);
}

TEST_F(StorageTest, ReopenKeepsDataIncarnationSequencesAndHlcFloor) {
  const Version before = Put("a", "1", 0, "{}");
  Put("b", "2");
  Delete("b");
  const std::string incarnation = storage_->change_log().incarnation();
  EXPECT_EQ(incarnation.size(), 32u);
  const uint64_t last = storage_->change_log().LastSequence();
  EXPECT_EQ(last, 4u);  // namespace create, put, put, delete

  // The wall clock goes back an hour across the restart.
  clock_.SetTime(clock_.TimeNow() - absl::Hours(1));
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("b"), "<none>");
  EXPECT_EQ(storage_->change_log().incarnation(), incarnation);
  EXPECT_EQ(storage_->change_log().LastSequence(), last);
  EXPECT_EQ(storage_->change_log().FirstSequence(), 1u);
  ASSERT_OK_AND_ASSIGN(NamespaceInfo ns, storage_->GetNamespace("acct", ns_));
  EXPECT_EQ(ns.title, "main");

  const Version after = Put("c", "3");
  EXPECT_GT(after, before);
  EXPECT_GE(after.physical_ms, before.physical_ms);
  EXPECT_EQ(storage_->change_log().LastSequence(), last + 1);
  ASSERT_OK_AND_ASSIGN(std::vector<SequencedChange> changes,
                       storage_->change_log().Read(last + 1, 10, 1 << 20));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].sequence, last + 1);
  EXPECT_EQ(changes[0].entry.key(), "c");
}

TEST_F(StorageTest, NewDataDirGetsNewIncarnation) {
  const std::string first = storage_->change_log().incarnation();
  StorageOptions other = options_;
  other.data_dir = dir_->Path("other");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Storage> second,
                       Storage::Open(other, clock_));
  EXPECT_NE(second->change_log().incarnation(), first);
  EXPECT_EQ(second->change_log().LastSequence(), 0u);
  EXPECT_EQ(second->change_log().FirstSequence(), 1u);
}

TEST_F(StorageTest, OpenRejectsBadOptionsAndLockedDir) {
  StorageOptions bad = options_;
  bad.data_dir = "";
  EXPECT_THAT(Storage::Open(bad, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // The data dir is locked by storage_.
  EXPECT_THAT(Storage::Open(options_, clock_),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(StorageTest, ExpiredRecordInvisibleAtOnce) {
  const int64_t expiration = NowSeconds() + 60;
  Put("ttl", "soon gone", expiration);
  Put("forever", "stays");
  ASSERT_OK_AND_ASSIGN(std::optional<Record> record, storage_->Get(ns_, "ttl"));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->expiration, expiration);
  clock_.Advance(absl::Seconds(59));
  EXPECT_EQ(Get("ttl"), "soon gone");
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Get("ttl"), "<none>");
  ASSERT_OK_AND_ASSIGN(std::vector<std::optional<Record>> many,
                       storage_->GetMany(ns_, {"ttl", "forever"}));
  EXPECT_FALSE(many[0].has_value());
  EXPECT_TRUE(many[1].has_value());
  ASSERT_OK_AND_ASSIGN(ListPage page, storage_->List(ns_, "", 10, ""));
  ASSERT_EQ(page.keys.size(), 1u);
  EXPECT_EQ(page.keys[0].key, "forever");
}

TEST_F(StorageTest, DeletedNamespaceRejectsRecordWrites) {
  Put("k", "v");
  ASSERT_OK(storage_->DeleteNamespace("acct", ns_));
  PutOp op;
  op.key = "k2";
  op.value = "v";
  EXPECT_THAT(storage_->Put(ns_, op), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(storage_->Get(ns_, "k"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(StorageTest, EmptyBulkOperationsSucceed) {
  EXPECT_OK(storage_->PutMany(ns_, {}));
  EXPECT_OK(storage_->DeleteMany(ns_, {}));
  ASSERT_OK_AND_ASSIGN(std::vector<std::optional<Record>> none,
                       storage_->GetMany(ns_, {}));
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(storage_->change_log().LastSequence(), 1u);
}

}  // namespace
}  // namespace kv::central
