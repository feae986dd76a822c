#include "common/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "common/error_space.h"

namespace kv {
namespace {


MATCHER_P2(IsError, code, substring, "") {
  return arg.code() == code && absl::StrContains(arg.message(), substring);
}

int HttpOf(const absl::Status& s) {
  auto d = GetHttpDetail(s);
  return d ? d->http_status : 0;
}

const Limits kDefaults;

TEST(ValidationTest, KeyLengthAtAndOverTheLimit) {
  EXPECT_TRUE(ValidateKey(std::string(512, 'k'), kDefaults).ok());
  absl::Status s = ValidateKey(std::string(513, 'k'), kDefaults);
  EXPECT_THAT(s, IsError(absl::StatusCode::kInvalidArgument,
                         "UTF-8 encoded length of 513 exceeds key length limit of 512."));
  EXPECT_EQ(HttpOf(s), 414);
  // Multi-byte characters count in bytes: 171 × 3 = 513.
  std::string euros;
  for (int i = 0; i < 171; ++i) euros += "\xE2\x82\xAC";
  EXPECT_THAT(ValidateKey(euros, kDefaults), IsError(absl::StatusCode::kInvalidArgument, "513"));
}

TEST(ValidationTest, KeyNames) {
  EXPECT_THAT(ValidateKey("", kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "Key names must not be empty"));
  EXPECT_THAT(ValidateKey(".", kDefaults),
              IsError(absl::StatusCode::kInvalidArgument,
                      "Illegal key name \".\". Please use a different name."));
  EXPECT_THAT(ValidateKey("..", kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "Illegal key name \"..\""));
  EXPECT_TRUE(ValidateKey("...", kDefaults).ok());
  EXPECT_TRUE(ValidateKey("a/b c?d#e%f+g&h=i \xC3\xA9\xF0\x9F\x98\x80", kDefaults).ok());
  EXPECT_TRUE(ValidateKey(std::string("a\0b", 3), kDefaults).ok());
  EXPECT_THAT(ValidateKey("\xFF", kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "UTF-8"));
  EXPECT_THAT(ValidateKey("\xED\xA0\x80", kDefaults),  // a surrogate
              IsError(absl::StatusCode::kInvalidArgument, "UTF-8"));
  EXPECT_THAT(ValidateKey("\xC0\xAF", kDefaults),  // overlong
              IsError(absl::StatusCode::kInvalidArgument, "UTF-8"));
}

TEST(ValidationTest, ValueSizeAtAndOverTheLimit) {
  EXPECT_TRUE(ValidateValueSize(26'214'400, kDefaults).ok());
  absl::Status s = ValidateValueSize(26'214'401, kDefaults);
  EXPECT_THAT(s, IsError(absl::StatusCode::kInvalidArgument,
                         "Value length of 26214401 exceeds limit of 26214400."));
  EXPECT_EQ(HttpOf(s), 413);
  Limits small;
  small.max_value_bytes = 1024;
  EXPECT_TRUE(ValidateValueSize(1024, small).ok());
  EXPECT_THAT(ValidateValueSize(1025, small),
              IsError(absl::StatusCode::kInvalidArgument, "Value length of 1025 exceeds limit of 1024."));
}

TEST(ValidationTest, MetadataSizeAndSyntax) {
  std::string at = "\"" + std::string(1022, 'm') + "\"";
  ASSERT_EQ(at.size(), 1024u);
  EXPECT_TRUE(ValidateMetadata(at, kDefaults).ok());
  std::string over = "\"" + std::string(1023, 'm') + "\"";
  absl::Status s = ValidateMetadata(over, kDefaults);
  EXPECT_THAT(s, IsError(absl::StatusCode::kInvalidArgument,
                         "Metadata length of 1025 exceeds limit of 1024."));
  EXPECT_EQ(HttpOf(s), 413);
  EXPECT_THAT(ValidateMetadata("{not json", kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "valid JSON"));
  EXPECT_TRUE(ValidateMetadata("null", kDefaults).ok());
  EXPECT_TRUE(ValidateMetadata("{\"a\":[1,{\"b\":null}]}", kDefaults).ok());
}

TEST(ValidationTest, ExpirationTtl) {
  const absl::Time now = absl::FromUnixSeconds(1'000'000);
  EXPECT_EQ(*ResolveExpiration(0, 60, now, kDefaults), 1'000'060);
  EXPECT_THAT(ResolveExpiration(0, 59, now, kDefaults).status(),
              IsError(absl::StatusCode::kInvalidArgument,
                      "Invalid expiration_ttl of 59. Expiration TTL must be at least 60."));
  EXPECT_THAT(ResolveExpiration(0, -1, now, kDefaults).status(),
              IsError(absl::StatusCode::kInvalidArgument,
                      "Invalid expiration_ttl of -1. Please specify integer greater than 0."));
  // TTL wins over expiration, even a bad one.
  EXPECT_EQ(*ResolveExpiration(5, 120, now, kDefaults), 1'000'120);
  Limits fast;
  fast.min_ttl = absl::Seconds(1);
  EXPECT_EQ(*ResolveExpiration(0, 1, now, fast), 1'000'001);
}

TEST(ValidationTest, AbsoluteExpiration) {
  const absl::Time now = absl::FromUnixSeconds(1'000'000);
  EXPECT_EQ(*ResolveExpiration(0, 0, now, kDefaults), 0);
  EXPECT_EQ(*ResolveExpiration(1'000'060, 0, now, kDefaults), 1'000'060);
  EXPECT_THAT(ResolveExpiration(1'000'059, 0, now, kDefaults).status(),
              IsError(absl::StatusCode::kInvalidArgument,
                      "Invalid expiration of 1000059. Expiration times must be at least 60 "
                      "seconds in the future."));
  EXPECT_THAT(ResolveExpiration(1'000'000, 0, now, kDefaults).status(),
              IsError(absl::StatusCode::kInvalidArgument,
                      "Please specify integer greater than the current number of seconds"));
  EXPECT_THAT(ResolveExpiration(-5, 0, now, kDefaults).status(),
              IsError(absl::StatusCode::kInvalidArgument, "Invalid expiration of -5"));
}

TEST(ValidationTest, CacheTtl) {
  EXPECT_TRUE(ValidateCacheTtl(0, kDefaults).ok());
  EXPECT_TRUE(ValidateCacheTtl(30, kDefaults).ok());
  EXPECT_THAT(ValidateCacheTtl(29, kDefaults),
              IsError(absl::StatusCode::kInvalidArgument,
                      "Invalid cache_ttl of 29. Cache TTL must be at least 30."));
}

TEST(ValidationTest, ListLimit) {
  EXPECT_EQ(*ResolveListLimit(0, kDefaults), 1000u);
  EXPECT_EQ(*ResolveListLimit(1, kDefaults), 1u);
  EXPECT_EQ(*ResolveListLimit(1000, kDefaults), 1000u);
  EXPECT_THAT(ResolveListLimit(1001, kDefaults).status(),
              IsError(absl::StatusCode::kInvalidArgument,
                      "Invalid key_count_limit of 1001. Please specify an integer less than 1000."));
  EXPECT_THAT(ResolveListLimit(-1, kDefaults).status(),
              IsError(absl::StatusCode::kInvalidArgument, "greater than 0"));
}

TEST(ValidationTest, PrefixLength) {
  EXPECT_TRUE(ValidatePrefix("", kDefaults).ok());
  EXPECT_TRUE(ValidatePrefix(std::string(512, 'p'), kDefaults).ok());
  absl::Status s = ValidatePrefix(std::string(513, 'p'), kDefaults);
  EXPECT_THAT(s, IsError(absl::StatusCode::kInvalidArgument, "length of 513"));
  EXPECT_EQ(HttpOf(s), 414);
}

TEST(ValidationTest, GetAndBulkCounts) {
  EXPECT_TRUE(ValidateGetKeyCount(100, kDefaults).ok());
  EXPECT_THAT(ValidateGetKeyCount(101, kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "You can request a maximum of 100 keys"));
  EXPECT_THAT(ValidateGetKeyCount(0, kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "You must request a minimum of 1 key"));
  EXPECT_TRUE(ValidateBulkCount(10000, kDefaults).ok());
  EXPECT_THAT(ValidateBulkCount(10001, kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "10001 entries exceeds the limit of 10000"));
  EXPECT_THAT(ValidateBulkCount(0, kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "at least 1"));
}

TEST(ValidationTest, NamespaceTitleAndIds) {
  EXPECT_TRUE(ValidateNamespaceTitle(std::string(512, 't'), kDefaults).ok());
  EXPECT_THAT(ValidateNamespaceTitle(std::string(513, 't'), kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "513 bytes exceeds the limit of 512"));
  EXPECT_THAT(ValidateNamespaceTitle("", kDefaults),
              IsError(absl::StatusCode::kInvalidArgument, "must not be empty"));
  EXPECT_TRUE(ValidateNamespaceId("0123456789abcdef0123456789abcdef").ok());
  EXPECT_EQ(ValidateNamespaceId("0123456789ABCDEF0123456789abcdef").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ValidateNamespaceId("abc").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(ValidateAccountId("0123456789abcdef0123456789abcdef").ok());
  EXPECT_TRUE(ValidateAccountId("devaccount").ok());
  EXPECT_FALSE(ValidateAccountId("").ok());
  EXPECT_FALSE(ValidateAccountId("a/b").ok());
  EXPECT_FALSE(ValidateAccountId(std::string(65, 'a')).ok());
}

}  // namespace
}  // namespace kv
