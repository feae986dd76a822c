// Record RPCs against a real kv-central: put, get (one and many keys, with
// and without metadata), delete, list (prefix, limit, cursors), bulk put and
// bulk delete.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/integration/itest_util.h"

namespace kv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class RecordsTest : public CentralFixture {
 protected:
  void SetUp() override {
    CentralFixture::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartCentral());
    ns_ = MustCreateNamespace("records");
    ASSERT_FALSE(ns_.empty());
  }
  std::string ns_;
};

TEST_F(RecordsTest, PutGetDelete) {
  EXPECT_EQ(Get(ns_, "missing"), "<not found>");
  ASSERT_OK(Put(ns_, "k", "v1"));
  EXPECT_EQ(Get(ns_, "k"), "v1");
  ASSERT_OK(Put(ns_, "k", "v2"));
  EXPECT_EQ(Get(ns_, "k"), "v2");
  // Empty values and binary values are values.
  ASSERT_OK(Put(ns_, "empty", ""));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry empty, GetEntry(ns_, "empty"));
  EXPECT_TRUE(empty.found());
  EXPECT_EQ(empty.value(), "");
  const std::string binary = RandomBytes(5000, 1) + std::string("\0\0", 2);
  ASSERT_OK(Put(ns_, "bin", binary));
  EXPECT_EQ(Get(ns_, "bin"), binary);

  ASSERT_OK(Delete(ns_, "k"));
  EXPECT_EQ(Get(ns_, "k"), "<not found>");
  // Deleting a missing key succeeds.
  EXPECT_OK(Delete(ns_, "k"));
  EXPECT_OK(Delete(ns_, "never-existed"));
  EXPECT_EQ(Get(ns_, "bin"), binary);
}

TEST_F(RecordsTest, PutReplacesMetadataAndExpirationTogether) {
  PutOptions with;
  with.metadata = R"({"a":1,"b":["x",null]})";
  with.expiration_ttl = 3600;
  ASSERT_OK(Put(ns_, "k", "v", with));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry entry, GetEntry(ns_, "k"));
  ASSERT_TRUE(entry.has_metadata());
  EXPECT_EQ(entry.metadata(), *with.metadata);
  EXPECT_NEAR(entry.expiration(), NowSeconds() + 3600, 30);
  // Without metadata requested, none is returned.
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry bare, GetEntry(ns_, "k", /*with_metadata=*/false));
  EXPECT_FALSE(bare.has_metadata());
  EXPECT_EQ(bare.value(), "v");

  ASSERT_OK(Put(ns_, "k", "v2"));
  ASSERT_OK_AND_ASSIGN(entry, GetEntry(ns_, "k"));
  EXPECT_FALSE(entry.has_metadata());
  EXPECT_EQ(entry.expiration(), 0);
  EXPECT_EQ(entry.value(), "v2");
}

TEST_F(RecordsTest, VersionsIncrease) {
  ASSERT_OK(Put(ns_, "k", "1"));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry first, GetEntry(ns_, "k"));
  ASSERT_OK(Put(ns_, "k", "2"));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry second, GetEntry(ns_, "k"));
  auto tuple = [](const kv::v1::Version& v) {
    return std::make_tuple(v.physical_ms(), v.logical(), v.node_id());
  };
  EXPECT_LT(tuple(first.version()), tuple(second.version()));
  EXPECT_EQ(second.version().node_id(), 1u);
}

TEST_F(RecordsTest, GetOneToHundredKeysInRequestOrder) {
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    std::string key = absl::StrFormat("key-%03d", i);
    keys.push_back(key);
    if (i % 10 == 9) continue;  // every tenth key stays missing
    PutOptions options;
    if (i % 2 == 0) options.metadata = absl::StrCat(R"({"i":)", i, "}");
    ASSERT_OK(Put(ns_, key, absl::StrCat("value-", i), options));
  }
  // Request order, not key order.
  std::reverse(keys.begin(), keys.end());
  for (size_t count : {size_t{1}, size_t{2}, size_t{37}, size_t{100}}) {
    std::vector<std::string> asked(keys.begin(), keys.begin() + count);
    for (bool with_metadata : {false, true}) {
      SCOPED_TRACE(absl::StrCat(count, " keys, with_metadata=", with_metadata));
      ASSERT_OK_AND_ASSIGN(kv::v1::GetResponse response, GetMany(ns_, asked, with_metadata));
      for (size_t j = 0; j < count; ++j) {
        const kv::v1::Entry& entry = response.entries(static_cast<int>(j));
        const int i = 99 - static_cast<int>(j);
        EXPECT_EQ(entry.key(), asked[j]);
        if (i % 10 == 9) {
          EXPECT_FALSE(entry.found()) << entry.key();
          continue;
        }
        EXPECT_TRUE(entry.found()) << entry.key();
        EXPECT_EQ(entry.value(), absl::StrCat("value-", i));
        if (with_metadata && i % 2 == 0) {
          EXPECT_TRUE(entry.has_metadata()) << entry.key();
          EXPECT_EQ(entry.metadata(), absl::StrCat(R"({"i":)", i, "}"));
        } else {
          EXPECT_FALSE(entry.has_metadata()) << entry.key();
        }
      }
    }
  }
  // The same key twice is answered twice.
  ASSERT_OK_AND_ASSIGN(kv::v1::GetResponse twice, GetMany(ns_, {"key-000", "key-000"}, false));
  EXPECT_EQ(twice.entries(1).value(), "value-0");
}

TEST_F(RecordsTest, GetKeyCountLimits) {
  ASSERT_OK(Put(ns_, "canary", "c"));
  std::vector<std::string> keys;
  for (int i = 0; i < 101; ++i) keys.push_back(absl::StrCat("k", i));
  EXPECT_THAT(GetMany(ns_, keys, false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("You can request a maximum of 100 keys")));
  EXPECT_THAT(GetMany(ns_, {}, false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("You must request a minimum of 1 key")));
  keys.pop_back();
  EXPECT_OK(GetMany(ns_, keys, false));
  EXPECT_EQ(Get(ns_, "canary"), "c");
}

TEST_F(RecordsTest, ListPrefixLimitAndCursorOver2500Keys) {
  std::vector<std::pair<std::string, std::string>> entries;
  std::vector<std::string> expected;
  for (int i = 0; i < 2500; ++i) {
    std::string key = absl::StrFormat("item/%05d", i);
    entries.emplace_back(key, absl::StrCat("v", i));
    expected.push_back(key);
  }
  ASSERT_OK(BulkPut(ns_, entries));
  // Neighbours that a prefix must exclude; `%` and `_` are not wildcards.
  ASSERT_OK(Put(ns_, "item", "x"));
  ASSERT_OK(Put(ns_, "iten/1", "x"));
  ASSERT_OK(Put(ns_, "Item/1", "x"));
  ASSERT_OK(Put(ns_, "a%b", "x"));
  ASSERT_OK(Put(ns_, "a_b", "x"));
  ASSERT_OK(Put(ns_, "axb", "x"));

  int pages = 0;
  ASSERT_OK_AND_ASSIGN(std::vector<kv::v1::ListedKey> listed, ListAll(ns_, "item/", 1000, &pages));
  std::vector<std::string> names;
  for (const auto& key : listed) names.push_back(key.name());
  EXPECT_THAT(names, ElementsAreArray(expected));
  EXPECT_GE(pages, 3);

  // Small pages.
  ASSERT_OK_AND_ASSIGN(listed, ListAll(ns_, "item/000", 7, &pages));
  EXPECT_THAT(listed, SizeIs(100));
  EXPECT_GE(pages, 15);

  // Default limit (0 = 1000) and everything in the namespace.
  ASSERT_OK_AND_ASSIGN(names, ListNames(ns_));
  EXPECT_THAT(names, SizeIs(2506));
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));

  ASSERT_OK_AND_ASSIGN(names, ListNames(ns_, "a%"));
  EXPECT_THAT(names, ElementsAre("a%b"));
  ASSERT_OK_AND_ASSIGN(names, ListNames(ns_, "a_"));
  EXPECT_THAT(names, ElementsAre("a_b"));
  ASSERT_OK_AND_ASSIGN(names, ListNames(ns_, "Item"));
  EXPECT_THAT(names, ElementsAre("Item/1"));
  ASSERT_OK_AND_ASSIGN(names, ListNames(ns_, "nothing"));
  EXPECT_THAT(names, SizeIs(0));

  // Exactly `limit` keys left: the list may end on that page or on an empty
  // one, but it ends.
  ASSERT_OK_AND_ASSIGN(listed, ListAll(ns_, "item/0249", 10));
  EXPECT_THAT(listed, SizeIs(10));

  // Limits.
  EXPECT_THAT(ListPage(ns_, "", 1001, ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1001")));
  EXPECT_OK(ListPage(ns_, "", 1000, ""));
  EXPECT_OK(ListPage(ns_, "", 1, ""));
}

TEST_F(RecordsTest, CursorIsAPositionNotAnOffset) {
  for (int i = 0; i < 10; ++i) ASSERT_OK(Put(ns_, absl::StrCat("k", i), "v"));
  ASSERT_OK_AND_ASSIGN(kv::v1::ListResponse first, ListPage(ns_, "", 5, ""));
  ASSERT_FALSE(first.list_complete());
  ASSERT_THAT(first.keys(), SizeIs(5));
  EXPECT_EQ(first.keys(4).name(), "k4");
  // A key before the position is not seen; one after it is; a deleted key
  // after it is gone.
  ASSERT_OK(Put(ns_, "k0a", "v"));
  ASSERT_OK(Put(ns_, "k7a", "v"));
  ASSERT_OK(Delete(ns_, "k8"));
  std::vector<std::string> rest;
  std::string cursor = first.cursor();
  while (!cursor.empty()) {
    ASSERT_OK_AND_ASSIGN(kv::v1::ListResponse page, ListPage(ns_, "", 5, cursor));
    for (const auto& key : page.keys()) rest.push_back(key.name());
    cursor = page.cursor();
  }
  EXPECT_THAT(rest, ElementsAre("k5", "k6", "k7", "k7a", "k9"));
}

TEST_F(RecordsTest, ListCarriesMetadataAndExpirationButNoValues) {
  PutOptions options;
  options.metadata = R"({"tag":"x"})";
  ASSERT_OK(Put(ns_, "a", "value-a", options));
  PutOptions ttl;
  ttl.expiration_ttl = 7200;
  ASSERT_OK(Put(ns_, "b", "value-b", ttl));
  ASSERT_OK(Put(ns_, "c", "value-c"));
  ASSERT_OK_AND_ASSIGN(std::vector<kv::v1::ListedKey> keys, ListAll(ns_));
  ASSERT_THAT(keys, SizeIs(3));
  EXPECT_EQ(keys[0].name(), "a");
  ASSERT_TRUE(keys[0].has_metadata());
  EXPECT_EQ(keys[0].metadata(), *options.metadata);
  EXPECT_EQ(keys[0].expiration(), 0);
  EXPECT_FALSE(keys[1].has_metadata());
  EXPECT_NEAR(keys[1].expiration(), NowSeconds() + 7200, 30);
  EXPECT_FALSE(keys[2].has_metadata());
  EXPECT_EQ(keys[2].expiration(), 0);
}

TEST_F(RecordsTest, KeysSortByUtf8Bytes) {
  const std::vector<std::string> keys = {"\xc3\xa9", "!", ",", "A", "a", "~", "\xf0\x9f\x94\x91",
                                         "a b", "a/b", "\xe2\x82\xac"};
  for (const std::string& key : keys) ASSERT_OK(Put(ns_, key, key));
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());  // std::string compares as unsigned char
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListNames(ns_));
  EXPECT_THAT(names, ElementsAreArray(sorted));
  for (const std::string& key : keys) EXPECT_EQ(Get(ns_, key), key);
}

TEST_F(RecordsTest, BulkPut10000ThenBulkDelete) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < 10000; ++i) {
    entries.emplace_back(absl::StrFormat("bulk-%05d", i), absl::StrCat("value-", i * 7));
  }
  kv::v1::BulkPutResponse put_response;
  ASSERT_OK(BulkPut(ns_, entries, &put_response));
  EXPECT_EQ(put_response.successful_key_count(), 10000u);
  EXPECT_THAT(put_response.unsuccessful_keys(), SizeIs(0));
  for (int i : {0, 1, 4999, 9998, 9999}) {
    EXPECT_EQ(Get(ns_, absl::StrFormat("bulk-%05d", i)), absl::StrCat("value-", i * 7));
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListNames(ns_, "bulk-"));
  EXPECT_THAT(names, SizeIs(10000));

  // Bulk put with metadata and TTL per entry.
  kv::v1::BulkPutRequest request;
  request.set_namespace_id(ns_);
  kv::v1::BulkPutEntry* e = request.add_entries();
  e->set_key("meta");
  e->set_value("m");
  e->set_metadata(R"({"m":true})");
  e->set_expiration_ttl(3600);
  kv::v1::BulkPutResponse response;
  ASSERT_OK(stub_->BulkPut(Context().get(), request, &response));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry meta, GetEntry(ns_, "meta"));
  EXPECT_EQ(meta.metadata(), R"({"m":true})");
  EXPECT_NEAR(meta.expiration(), NowSeconds() + 3600, 30);

  // Delete the even half (including keys that do not exist).
  std::vector<std::string> to_delete;
  for (int i = 0; i < 10000; i += 2) to_delete.push_back(absl::StrFormat("bulk-%05d", i));
  to_delete.push_back("no-such-key");
  kv::v1::BulkDeleteResponse delete_response;
  ASSERT_OK(BulkDelete(ns_, to_delete, &delete_response));
  EXPECT_EQ(delete_response.successful_key_count(), to_delete.size());
  ASSERT_OK_AND_ASSIGN(names, ListNames(ns_, "bulk-"));
  ASSERT_THAT(names, SizeIs(5000));
  EXPECT_EQ(names.front(), "bulk-00001");
  EXPECT_EQ(Get(ns_, "bulk-00000"), "<not found>");
  EXPECT_EQ(Get(ns_, "bulk-00001"), "value-7");
}

TEST_F(RecordsTest, BulkPutIsValidatedBeforeAnyWrite) {
  ASSERT_OK(Put(ns_, "canary", "before"));
  std::vector<std::pair<std::string, std::string>> entries = {
      {"canary", "after"}, {"fine", "x"}, {"", "empty key"}};
  EXPECT_THAT(BulkPut(ns_, entries),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Key names must not be empty")));
  EXPECT_EQ(Get(ns_, "canary"), "before");
  EXPECT_EQ(Get(ns_, "fine"), "<not found>");

  // 10,001 entries: over the default limit.
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i <= 10000; ++i) many.emplace_back(absl::StrCat("m", i), "v");
  many.emplace_back("canary", "after");
  EXPECT_THAT(BulkPut(ns_, many), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Get(ns_, "canary"), "before");
  EXPECT_EQ(Get(ns_, "m0"), "<not found>");
  EXPECT_THAT(BulkPut(ns_, {}), StatusIs(absl::StatusCode::kInvalidArgument));

  std::vector<std::string> keys;
  for (int i = 0; i <= 10000; ++i) keys.push_back(absl::StrCat("m", i));
  keys.push_back("canary");
  EXPECT_THAT(BulkDelete(ns_, keys), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Get(ns_, "canary"), "before");
}

}  // namespace
}  // namespace kv::testing
