// The HTTP front ends' parsers: path and query decoding, multipart bodies,
// REST paths.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/http/multipart.h"
#include "common/http/rest_routes.h"
#include "common/http/url_codec.h"
#include "tests/harness/status_matchers.h"

namespace kv::http {
namespace {

using ::kv::testing::StatusIs;
using ::testing::HasSubstr;

TEST(PercentDecodeTest, DecodesEscapesAndKeepsPlus) {
  EXPECT_EQ(PercentDecode("a%2Fb%20c%3Fd%23e%25f+g&h=i"), "a/b c?d#e%f+g&h=i");
  EXPECT_EQ(PercentDecode("%C3%A9"), "\xC3\xA9");
  EXPECT_EQ(PercentDecode(""), "");
}

TEST(PercentDecodeTest, RejectsBadEscapes) {
  EXPECT_EQ(PercentDecode("a%zz"), std::nullopt);
  EXPECT_EQ(PercentDecode("a%2"), std::nullopt);
  EXPECT_EQ(PercentDecode("%"), std::nullopt);
}

TEST(ParseQueryTest, FormDecodes) {
  absl::StatusOr<QueryParams> q = ParseQuery("prefix=a+b%2Bc&cursor=YQ%3D%3D&empty=&flag");
  ASSERT_OK(q);
  EXPECT_EQ(*FindParam(*q, "prefix"), "a b+c");
  EXPECT_EQ(*FindParam(*q, "cursor"), "YQ==");
  EXPECT_EQ(*FindParam(*q, "empty"), "");
  EXPECT_EQ(*FindParam(*q, "flag"), "");
  EXPECT_EQ(FindParam(*q, "absent"), nullptr);
  EXPECT_THAT(ParseQuery("a=%zz"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(ParseQueryTest, IntParam) {
  absl::StatusOr<QueryParams> q = ParseQuery("n=42&bad=4x");
  ASSERT_OK(q);
  EXPECT_EQ(**IntParam(*q, "n"), 42);
  EXPECT_FALSE(IntParam(*q, "absent")->has_value());
  EXPECT_THAT(IntParam(*q, "bad"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(MultipartTest, ParsesFieldsAndBinaryFileParts) {
  const std::string binary("\x00\x01\r\n--not-the-boundary\xff", 24);
  const std::string body =
      "--b0undary\r\nContent-Disposition: form-data; name=\"value\"; filename=\"bin\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n" +
      binary +
      "\r\n--b0undary\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"x\":1}\r\n"
      "--b0undary--\r\n";
  absl::StatusOr<std::vector<FormPart>> parts =
      ParseMultipartFormData("multipart/form-data; boundary=b0undary", body);
  ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "value");
  EXPECT_EQ((*parts)[0].filename, "bin");
  EXPECT_EQ((*parts)[0].data, binary);
  EXPECT_EQ((*parts)[1].name, "metadata");
  EXPECT_EQ((*parts)[1].data, "{\"x\":1}");
}

TEST(MultipartTest, QuotedBoundaryAndEmptyValue) {
  absl::StatusOr<std::vector<FormPart>> parts = ParseMultipartFormData(
      "multipart/form-data; boundary=\"a b\"",
      "--a b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\n\r\n--a b--");
  ASSERT_OK(parts);
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].data, "");
}

TEST(MultipartTest, RejectsMalformedBodies) {
  EXPECT_THAT(ParseMultipartFormData("multipart/form-data", "x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMultipartFormData("multipart/form-data; boundary=b", "no delimiter"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMultipartFormData(
                  "multipart/form-data; boundary=b",
                  "--b\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\ntruncat"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMultipartFormData("multipart/form-data; boundary=b",
                                     "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(IsMultipartFormData("Multipart/Form-Data; boundary=x"));
  EXPECT_FALSE(IsMultipartFormData("text/plain;charset=UTF-8"));
}

TEST(RestPathTest, Routes) {
  const std::string base = "/client/v4/accounts/acc/storage/kv/namespaces";
  absl::StatusOr<RestRoute> r = ParseRestPath(base);
  ASSERT_OK(r);
  EXPECT_EQ(r->account_id, "acc");
  EXPECT_EQ(r->namespace_id, "");
  r = ParseRestPath(base + "/ns1/values/a%2Fb+c%20d");
  ASSERT_OK(r);
  EXPECT_EQ(r->namespace_id, "ns1");
  EXPECT_EQ(r->resource, "values");
  EXPECT_EQ(r->key, "a/b+c d");
  EXPECT_EQ(ParseRestPath(base + "/ns1/bulk/delete")->resource, "bulk/delete");
  EXPECT_EQ(ParseRestPath(base + "/ns1/bulk/get")->resource, "bulk/get");
  EXPECT_EQ(ParseRestPath(base + "/ns1/bulk")->resource, "bulk");
  EXPECT_EQ(ParseRestPath(base + "/ns1/keys")->resource, "keys");
  EXPECT_EQ(ParseRestPath(base + "/ns1/metadata/k")->key, "k");
  EXPECT_EQ(ParseRestPath(base + "/ns1/values/")->key, "");
  for (const std::string& bad :
       {std::string("/client/v4/memberships"), base + "/ns1/values/a/b", base + "/ns1/nope",
        base + "/", base + "/ns1/bulk/put", std::string("/client/v4/accounts/acc/storage/x")}) {
    EXPECT_THAT(ParseRestPath(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_THAT(ParseRestPath(base + "/ns1/values/%zz").status().message(),
              HasSubstr("URL-decode"));
}

}  // namespace
}  // namespace kv::http
