// Every Workers KV limit at N and N+1 through gRPC, on a node started with
// small knobs (and one real 25 MiB value on a default node). Each rejected
// request is checked to leave a canary key unchanged.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/harness/eventually.h"
#include "tests/integration/itest_util.h"

namespace kv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr int64_t kSmallValueBytes = 1024;
constexpr int64_t kSmallMetadataBytes = 64;

class LimitsTest : public CentralFixture {
 protected:
  void StartSmall() {
    CentralProcessOptions options;
    options.extra_flags = {
        absl::StrCat("--max_value_bytes=", kSmallValueBytes),
        absl::StrCat("--max_metadata_bytes=", kSmallMetadataBytes),
        "--min_ttl=1s",
        "--max_bulk_entries=10",
    };
    ASSERT_NO_FATAL_FAILURE(StartCentral(options));
    ns_ = MustCreateNamespace("limits");
    ASSERT_FALSE(ns_.empty());
    PutOptions canary;
    canary.metadata = R"({"canary":1})";
    ASSERT_OK(Put(ns_, "canary", "canary-value", canary));
  }

  // The canary still has its value and metadata, and no other key appeared.
  void ExpectUnchanged() {
    ASSERT_OK_AND_ASSIGN(kv::v1::Entry entry, GetEntry(ns_, "canary"));
    EXPECT_TRUE(entry.found());
    EXPECT_EQ(entry.value(), "canary-value");
    EXPECT_EQ(entry.metadata(), R"({"canary":1})");
    EXPECT_EQ(entry.expiration(), 0);
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListNames(ns_));
    EXPECT_EQ(names, (std::vector<std::string>{"canary"}));
  }

  // Puts `key`, expects success, and deletes it again so the namespace holds
  // only the canary.
  void ExpectPutOk(const std::string& key, const std::string& value, const PutOptions& options = {}) {
    EXPECT_OK(Put(ns_, key, value, options));
    EXPECT_OK(Delete(ns_, key));
  }

  std::string ns_;
};

TEST_F(LimitsTest, KeyLength) {
  ASSERT_NO_FATAL_FAILURE(StartSmall());
  ExpectPutOk(std::string(512, 'k'), "v");
  EXPECT_THAT(Put(ns_, std::string(513, 'k'), "v"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "UTF-8 encoded length of 513 exceeds key length limit of 512."));
  // Bytes of UTF-8, not characters: 256 x "é" is 512 bytes.
  std::string e512;
  for (int i = 0; i < 256; ++i) e512 += "\xc3\xa9";
  ExpectPutOk(e512, "v");
  EXPECT_THAT(Put(ns_, e512 + "a", "v"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "UTF-8 encoded length of 513 exceeds key length limit of 512."));
  // The same check guards reads, deletes and list prefixes.
  EXPECT_THAT(GetEntry(ns_, std::string(513, 'k')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceeds key length limit")));
  EXPECT_THAT(Delete(ns_, std::string(513, 'k')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("exceeds key length limit")));
  EXPECT_OK(ListPage(ns_, std::string(512, 'k'), 0, ""));
  EXPECT_THAT(ListPage(ns_, std::string(513, 'k'), 0, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "UTF-8 encoded length of 513 exceeds key length limit of 512."));
  ExpectUnchanged();
}

TEST_F(LimitsTest, IllegalKeyNames) {
  ASSERT_NO_FATAL_FAILURE(StartSmall());
  EXPECT_THAT(Put(ns_, "", "v"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Key names must not be empty")));
  EXPECT_THAT(Put(ns_, ".", "v"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Illegal key name \".\". Please use a different name."));
  EXPECT_THAT(Put(ns_, "..", "v"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Illegal key name \"..\". Please use a different name."));
  EXPECT_THAT(Put(ns_, "bad\xff utf8", "v"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Put(ns_, "\xc3", "v"), StatusIs(absl::StatusCode::kInvalidArgument));
  // Names that merely contain dots are fine.
  ExpectPutOk("...", "v");
  ExpectPutOk("./a", "v");
  ExpectPutOk(".a", "v");
  ExpectUnchanged();
}

TEST_F(LimitsTest, ValueSize) {
  ASSERT_NO_FATAL_FAILURE(StartSmall());
  ExpectPutOk("v", std::string(kSmallValueBytes, 'x'));
  EXPECT_THAT(Put(ns_, "canary", std::string(kSmallValueBytes + 1, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("Value length of ", kSmallValueBytes + 1, " exceeds limit of ",
                                    kSmallValueBytes, ".")));
  EXPECT_THAT(Put(ns_, "other", std::string(kSmallValueBytes * 5, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Value length of 5120")));
  ExpectUnchanged();
}

TEST_F(LimitsTest, MetadataSizeAndSyntax) {
  ASSERT_NO_FATAL_FAILURE(StartSmall());
  // {"k":"xxx..."} of exactly 64 bytes: 8 bytes of syntax + 56 x.
  PutOptions at_limit;
  at_limit.metadata = absl::StrCat(R"({"k":")", std::string(kSmallMetadataBytes - 8, 'x'), R"("})");
  ASSERT_EQ(at_limit.metadata->size(), static_cast<size_t>(kSmallMetadataBytes));
  ExpectPutOk("m", "v", at_limit);
  PutOptions over;
  over.metadata = absl::StrCat(R"({"k":")", std::string(kSmallMetadataBytes - 7, 'x'), R"("})");
  EXPECT_THAT(Put(ns_, "canary", "new", over),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("Metadata length of ", kSmallMetadataBytes + 1,
                                    " exceeds limit of ", kSmallMetadataBytes, ".")));
  for (const char* bad : {"{", "{'a':1}", "not json", "{\"a\":1}}", ""}) {
    PutOptions invalid;
    invalid.metadata = bad;
    EXPECT_THAT(Put(ns_, "canary", "new", invalid), StatusIs(absl::StatusCode::kInvalidArgument))
        << "metadata: " << bad;
  }
  // Any JSON value is metadata.
  for (const char* good : {"1", "\"s\"", "null", "[1,2]", "true"}) {
    PutOptions valid;
    valid.metadata = good;
    ExpectPutOk("m", "v", valid);
  }
  ExpectUnchanged();
}

TEST_F(LimitsTest, ExpirationTtlAndExpiration) {
  ASSERT_NO_FATAL_FAILURE(StartSmall());
  PutOptions one;
  one.expiration_ttl = 1;
  EXPECT_OK(Put(ns_, "ttl1", "v", one));  // expires by itself; not in ExpectUnchanged's list
  PutOptions negative;
  negative.expiration_ttl = -5;
  EXPECT_THAT(Put(ns_, "canary", "new", negative),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Invalid expiration_ttl of -5")));
  PutOptions past;
  past.expiration = NowSeconds() - 10;
  EXPECT_THAT(Put(ns_, "canary", "new", past),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Please specify integer greater than the current number of "
                                 "seconds since the UNIX epoch.")));
  PutOptions negative_abs;
  negative_abs.expiration = -1;
  EXPECT_THAT(Put(ns_, "canary", "new", negative_abs),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Invalid expiration of -1")));
  ASSERT_OK(Delete(ns_, "ttl1"));
  ExpectUnchanged();
}

TEST_F(LimitsTest, DefaultMinimumTtlOf60Seconds) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  ns_ = MustCreateNamespace("ttl");
  ASSERT_OK(Put(ns_, "canary", "canary-value", {.metadata = R"({"canary":1})"}));
  PutOptions at;
  at.expiration_ttl = 60;
  ExpectPutOk("k", "v", at);
  PutOptions under;
  under.expiration_ttl = 59;
  EXPECT_THAT(Put(ns_, "canary", "new", under),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Invalid expiration_ttl of 59. Expiration TTL must be at least 60."));
  under.expiration_ttl = 30;
  EXPECT_THAT(Put(ns_, "canary", "new", under),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."));
  // Absolute expirations: clock-relative, so with margins.
  PutOptions abs_ok;
  abs_ok.expiration = NowSeconds() + 90;
  ExpectPutOk("k", "v", abs_ok);
  PutOptions abs_near;
  abs_near.expiration = NowSeconds() + 30;
  EXPECT_THAT(Put(ns_, "canary", "new", abs_near),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat("Invalid expiration of ", abs_near.expiration,
                                    ". Expiration times must be at least 60 seconds in the "
                                    "future.")));
  // expiration_ttl wins over expiration.
  PutOptions both;
  both.expiration_ttl = 120;
  both.expiration = NowSeconds() + 30;
  ASSERT_OK(Put(ns_, "both", "v", both));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry entry, GetEntry(ns_, "both"));
  EXPECT_NEAR(entry.expiration(), NowSeconds() + 120, 20);
  ASSERT_OK(Delete(ns_, "both"));
  ExpectUnchanged();
}

TEST_F(LimitsTest, CacheTtl) {
  ASSERT_NO_FATAL_FAILURE(StartSmall());
  EXPECT_OK(GetMany(ns_, {"canary"}, false, /*cache_ttl=*/30));
  EXPECT_OK(GetMany(ns_, {"canary"}, false, /*cache_ttl=*/3600));
  EXPECT_THAT(GetMany(ns_, {"canary"}, false, /*cache_ttl=*/29),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Invalid cache_ttl of 29. Cache TTL must be at least 30."));
  ExpectUnchanged();
}

TEST_F(LimitsTest, ListLimit) {
  ASSERT_NO_FATAL_FAILURE(StartSmall());
  EXPECT_OK(ListPage(ns_, "", 1000, ""));
  EXPECT_THAT(ListPage(ns_, "", 1001, ""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("Invalid key_count_limit of 1001.")));
  EXPECT_THAT(ListPage(ns_, "", 0, "garbage-cursor!"), StatusIs(absl::StatusCode::kInvalidArgument));
  ExpectUnchanged();
}

TEST_F(LimitsTest, BulkEntryCount) {
  ASSERT_NO_FATAL_FAILURE(StartSmall());
  std::vector<std::pair<std::string, std::string>> ten;
  std::vector<std::string> ten_keys;
  for (int i = 0; i < 10; ++i) {
    ten.emplace_back(absl::StrCat("b", i), "v");
    ten_keys.push_back(absl::StrCat("b", i));
  }
  EXPECT_OK(BulkPut(ns_, ten));
  EXPECT_OK(BulkDelete(ns_, ten_keys));
  auto eleven = ten;
  eleven.emplace_back("canary", "new");
  EXPECT_THAT(BulkPut(ns_, eleven), StatusIs(absl::StatusCode::kInvalidArgument));
  auto eleven_keys = ten_keys;
  eleven_keys.push_back("canary");
  EXPECT_THAT(BulkDelete(ns_, eleven_keys), StatusIs(absl::StatusCode::kInvalidArgument));
  // One oversized value fails the whole batch.
  std::vector<std::pair<std::string, std::string>> with_big = {
      {"canary", "new"}, {"big", std::string(kSmallValueBytes + 1, 'x')}};
  EXPECT_THAT(BulkPut(ns_, with_big),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Value length of 1025")));
  ExpectUnchanged();
}

TEST_F(LimitsTest, Real25MiBValue) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  ns_ = MustCreateNamespace("big");
  ASSERT_OK(Put(ns_, "canary", "canary-value", {.metadata = R"({"canary":1})"}));
  constexpr size_t kMax = 26'214'400;
  const std::string value = RandomBytes(kMax, 25);
  ASSERT_OK(Put(ns_, "big", value));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry entry, GetEntry(ns_, "big"));
  EXPECT_TRUE(entry.value() == value) << "25 MiB value differs";
  EXPECT_THAT(Put(ns_, "canary", value + "x"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "Value length of 26214401 exceeds limit of 26214400."));
  ASSERT_OK(Delete(ns_, "big"));
  ExpectUnchanged();
}

TEST_F(LimitsTest, KeysExpire) {
  ASSERT_NO_FATAL_FAILURE(StartSmall());
  PutOptions one;
  one.expiration_ttl = 1;
  ASSERT_OK(Put(ns_, "ttl1", "v", one));
  PutOptions two;
  two.expiration_ttl = 2;
  two.metadata = R"({"t":2})";
  ASSERT_OK(Put(ns_, "ttl2", "v", two));
  PutOptions absolute;
  absolute.expiration = NowSeconds() + 2;
  ASSERT_OK(Put(ns_, "abs", "v", absolute));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry entry, GetEntry(ns_, "ttl2"));
  EXPECT_NEAR(entry.expiration(), NowSeconds() + 2, 2);

  ASSERT_EVENTUALLY(
      [&] {
        for (const char* key : {"ttl1", "ttl2", "abs"}) {
          ASSERT_EQ(Get(ns_, key), "<not found>") << key;
        }
        ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListNames(ns_));
        ASSERT_EQ(names, (std::vector<std::string>{"canary"}));
      },
      absl::Seconds(15));
  ASSERT_OK_AND_ASSIGN(kv::v1::GetResponse many, GetMany(ns_, {"ttl1", "canary"}, true));
  EXPECT_FALSE(many.entries(0).found());
  EXPECT_TRUE(many.entries(1).found());
  ExpectUnchanged();
}

}  // namespace
}  // namespace kv::testing
