// The key index (RecordStore, "key_index" column family): lists, digests and
// replicated version checks never read a value, it follows namespace
// deletion, and a data dir written before it existed gets it on open.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "central/meta_keys.h"
#include "central/replica_store.h"
#include "central/storage.h"
#include "gtest/gtest.h"
#include "proto/storage.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using ::kv::storage::v1::ChangeEntry;

class KeyIndexTest : public StorageTest {
 protected:
  double Figure(const std::string& name) {
    for (const auto& [n, v] : storage_->EngineFigures()) {
      if (n == name) return v;
    }
    ADD_FAILURE() << "no engine figure " << name;
    return -1;
  }

  // Every live key with its expiration and metadata, one string.
  std::string ListAll() {
    std::string out;
    std::string cursor;
    do {
      absl::StatusOr<ListPage> page = storage_->List(ns_, "", 1000, cursor);
      EXPECT_OK(page);
      if (!page.ok()) return "<error>";
      for (const ListedRecord& r : page->keys) {
        absl::StrAppend(&out, r.key, "|", r.expiration, "|", r.metadata.value_or("<none>"), "\n");
      }
      cursor = page->cursor;
    } while (!cursor.empty());
    return out;
  }

  std::string Digests() {
    kv::replication::v1::DigestRequest request;
    request.set_buckets(16);
    absl::StatusOr<kv::replication::v1::DigestResponse> digests =
        storage_->replica().Digests(request);
    EXPECT_OK(digests);
    return digests.ok() ? digests->SerializeAsString() : "<error>";
  }
};

TEST_F(KeyIndexTest, ListsDigestsAndVersionChecksReadNoValue) {
  const std::string big(64 * 1024, 'v');
  ASSERT_GT(big.size(), options_.min_blob_bytes);
  Version last;
  for (int i = 0; i < 8; ++i) {
    last = Put(absl::StrCat("big", i), big, 0, absl::StrCat(R"({"i":)", i, "}"));
  }
  ASSERT_OK(storage_->Flush());  // the values are now in blob files
  const double before = Figure("blob_bytes_read_total");

  EXPECT_NE(ListAll().find(R"(big7|0|{"i":7})"), std::string::npos) << ListAll();
  EXPECT_NE(Digests(), "<error>");
  kv::replication::v1::BucketKeysRequest keys;
  keys.set_namespace_id(ns_);
  keys.set_buckets(16);
  keys.set_bucket(ReplicaStore::BucketOf("big3", 16));
  ASSERT_OK_AND_ASSIGN(auto listed, storage_->replica().BucketKeys(keys));
  EXPECT_GE(listed.keys_size(), 1);
  // A replicated echo (dropped before the commit) and a newer write (checked
  // again in the commit) compare versions with the stored ones.
  ChangeEntry echo;
  echo.set_kind(ChangeEntry::DELETE);
  echo.set_namespace_id(ns_);
  echo.set_key("big7");
  last.ToProto(echo.mutable_version());
  ChangeEntry newer = echo;
  newer.set_key("big6");
  Version{last.physical_ms + 1, 0, 9}.ToProto(newer.mutable_version());
  ASSERT_OK_AND_ASSIGN(size_t applied, storage_->replica().Apply({echo, newer}, 9, std::nullopt));
  EXPECT_EQ(applied, 1u);
  EXPECT_EQ(Figure("blob_bytes_read_total"), before);

  // Reading a value does read its blob (the figure can move).
  EXPECT_EQ(Get("big5"), big);
  EXPECT_GT(Figure("blob_bytes_read_total"), before);
}

TEST_F(KeyIndexTest, LiveVersionsAgreeWithReadsWithoutReadingValues) {
  const Version big = Put("big", std::string(64 * 1024, 'b'));
  const Version small = Put("small", "s", NowSeconds() + 60);
  Put("deleted", "d");
  Delete("deleted");
  Put("expired", "e", NowSeconds() + 1);
  ASSERT_OK(storage_->Flush());
  clock_.Advance(absl::Seconds(1));
  const double before = Figure("blob_bytes_read_total");
  ASSERT_OK_AND_ASSIGN(std::vector<std::optional<Version>> versions,
                       storage_->LiveVersions(ns_, {"big", "small", "deleted", "expired", "none"}));
  EXPECT_EQ(Figure("blob_bytes_read_total"), before);
  ASSERT_EQ(versions.size(), 5u);
  EXPECT_EQ(versions[0], std::optional<Version>(big));
  EXPECT_EQ(versions[1], std::optional<Version>(small));
  EXPECT_EQ(versions[2], std::nullopt);
  EXPECT_EQ(versions[3], std::nullopt);  // expired at the clock's now
  EXPECT_EQ(versions[4], std::nullopt);
  EXPECT_EQ(Get("expired"), "<none>");
  EXPECT_THAT(storage_->LiveVersions("0123456789abcdef0123456789abcdef", {"k"}),
              kv::testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(KeyIndexTest, DeletingANamespaceClearsItsIndex) {
  Put("a", "1");
  Put("b", "2", 0, "meta");
  // Namespaces with records in the digests.
  auto digested = [&] {
    kv::replication::v1::DigestRequest request;
    request.set_buckets(16);
    absl::StatusOr<kv::replication::v1::DigestResponse> digests =
        storage_->replica().Digests(request);
    EXPECT_OK(digests);
    std::vector<std::string> out;
    if (digests.ok()) {
      for (const auto& ns : digests->namespaces()) out.push_back(ns.namespace_id());
    }
    return out;
  };
  ASSERT_EQ(digested(), std::vector<std::string>{ns_});
  ASSERT_OK(storage_->DeleteNamespace("acct", ns_));
  EXPECT_EQ(digested(), std::vector<std::string>{});
}

TEST_F(KeyIndexTest, ADataDirWithoutTheIndexGetsItOnOpen) {
  Put("plain", "1");
  Put("meta", "2", 0, R"({"m":true})");
  Put("ttl", "3", NowSeconds() + 3600);
  Put("gone", "4");
  Delete("gone");
  Put("big", std::string(64 * 1024, 'b'));
  const std::string list = ListAll();
  const std::string digests = Digests();
  ASSERT_NE(list.find("meta|0|{\"m\":true}"), std::string::npos) << list;

  // What an older version left: no key index and no marker.
  Close();
  {
    rocksdb::DBOptions db_options;
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(db_options, options_.data_dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(db_options, options_.data_dir, descriptors, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "key_index") {
        ASSERT_TRUE(db->DropColumnFamily(handles[i]).ok());
      }
      if (names[i] == "meta") {
        ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), handles[i], kMetaKeyIndexBuiltKey).ok());
      }
    }
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    }
  }

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_EQ(ListAll(), list);
  EXPECT_EQ(Digests(), digests);
  // Built once: later opens keep it as it is.
  Put("after", "5");
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_NE(ListAll().find("after|"), std::string::npos);
}

}  // namespace
}  // namespace kv::central
