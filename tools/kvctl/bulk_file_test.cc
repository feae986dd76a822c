#include "tools/kvctl/bulk_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kv::kvctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(BulkFileTest, ParsesWranglerPutFile) {
  auto entries = ParseBulkPutFile(R"([
    {"key": "a", "value": "1"},
    {"key": "b", "value": "AAEC/w==", "base64": true, "expiration": 2000000000},
    {"key": "c", "value": "3", "metadata": {"m": [1, "x"]}, "expiration_ttl": 3600}
  ])");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].key(), "a");
  EXPECT_EQ((*entries)[0].value(), "1");
  EXPECT_FALSE((*entries)[0].has_metadata());
  EXPECT_EQ((*entries)[1].value(), std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ((*entries)[1].expiration(), 2000000000);
  EXPECT_EQ((*entries)[2].metadata(), R"({"m":[1,"x"]})");
  EXPECT_EQ((*entries)[2].expiration_ttl(), 3600);
}

TEST(BulkFileTest, PutFileErrorsNameTheEntry) {
  EXPECT_THAT(ParseBulkPutFile("{nope").status().message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(ParseBulkPutFile(R"({"key":"a"})").status().message(),
              HasSubstr("expected a JSON array"));
  EXPECT_THAT(ParseBulkPutFile(R"([{"key":"a","value":"1"},{"key":"b"}])").status().message(),
              HasSubstr("entry 1: \"value\" must be a string"));
  EXPECT_THAT(ParseBulkPutFile(R"([{"key":1,"value":"1"}])").status().message(),
              HasSubstr("entry 0: \"key\" must be a string"));
  EXPECT_THAT(
      ParseBulkPutFile(R"([{"key":"a","value":"!!","base64":true}])").status().message(),
      HasSubstr("entry 0: \"value\" is not valid base64"));
  EXPECT_THAT(
      ParseBulkPutFile(R"([{"key":"a","value":"1","expiration_ttl":"soon"}])").status().message(),
      HasSubstr("\"expiration_ttl\" must be an integer"));
  EXPECT_TRUE(ParseBulkPutFile("[]").ok());
}

TEST(BulkFileTest, KeyListFile) {
  auto keys = ParseKeyListFile(R"(["a", {"name": "b", "expiration": 5}, "c/d"])");
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_THAT(*keys, ElementsAre("a", "b", "c/d"));
  EXPECT_THAT(ParseKeyListFile(R"(["a", 3])").status().message(), HasSubstr("entry 1"));
}

TEST(BulkFileTest, Base64RoundTrip) {
  for (const std::string& s : {std::string(""), std::string("f"), std::string("fo"),
                              std::string("foo"), std::string("\x00\xff\x10\x80", 4)}) {
    auto decoded = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, s);
  }
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());
  EXPECT_FALSE(Base64Decode("Zg==Zg").ok());
}

}  // namespace
}  // namespace kv::kvctl
