// The workerd KV binding protocol (WorkerdHandler) over a fake API: the
// shapes workerd parses, CF-Cache-Status, and errors in the reason phrase.
#include "common/http/workerd_handler.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/http/fake_kv_api.h"

namespace kv::http {
namespace {

using json = nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Header = std::pair<std::string, std::string>;

class WorkerdHandlerTest : public ::testing::Test {
 protected:
  WorkerdHandlerTest() : handler_(api_, limits_) {}

  HttpResponse Call(const std::string& method, const std::string& target, std::string body = "",
                    std::vector<Header> headers = {}, bool with_namespace = true) {
    HttpRequest request;
    request.method = method;
    const size_t q = target.find('?');
    request.path = target.substr(0, q);
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    request.headers = std::move(headers);
    if (with_namespace) request.headers.emplace_back("x-kv-namespace-id", FakeKvApi::kNs);
    request.body = std::move(body);
    HttpResponse response;
    if (!handler_.TryHandleInline(request, &response)) handler_.Handle(request, &response);
    return response;
  }

  FakeKvApi api_;
  Limits limits_;
  WorkerdHandler handler_;
};

TEST_F(WorkerdHandlerTest, PutThenGetWithMetadataAndCacheStatus) {
  EXPECT_EQ(Call("PUT", "/a%2Fb%20c+d?urlencoded=true&expiration_ttl=120", "v",
                 {{"cf-kv-metadata", "{\"n\":1}"}})
                .status,
            200);
  ASSERT_TRUE(api_.records.count("a/b c+d"));
  EXPECT_EQ(api_.records["a/b c+d"].metadata, "{\"n\":1}");
  HttpResponse r = Call("GET", "/a%2Fb%20c+d?urlencoded=true");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "v");
  EXPECT_THAT(r.headers, Contains(Header("CF-KV-Metadata", "{\"n\":1}")));
  EXPECT_THAT(r.headers, Contains(Header("CF-Cache-Status", "MISS")));
  api_.cache = true;
  r = Call("GET", "/a%2Fb%20c+d?urlencoded=true");
  EXPECT_THAT(r.headers, Contains(Header("CF-Cache-Status", "HIT")));
}

TEST_F(WorkerdHandlerTest, MissingIs404AndDeleteOfMissingIs2xx) {
  HttpResponse r = Call("GET", "/nope?urlencoded=true");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Call("DELETE", "/nope?urlencoded=true").status, 200);
}

TEST_F(WorkerdHandlerTest, ListShape) {
  api_.records["a"] = {"1", "\"just-a-string\"", 77};
  api_.records["b"] = {"2", std::nullopt, 0};
  HttpResponse r = Call("GET", "/?key_count_limit=1");
  json page = json::parse(r.body);
  EXPECT_EQ(page, json::parse(R"({"keys":[{"name":"a","expiration":77,
                                  "metadata":"\"just-a-string\""}],
                                  "list_complete":false,"cursor":"a"})"));
  r = Call("GET", "/?key_count_limit=5&cursor=a");
  page = json::parse(r.body);
  EXPECT_EQ(page["list_complete"], true);
  EXPECT_FALSE(page.contains("cursor"));
  EXPECT_EQ(page["keys"], json::parse(R"([{"name":"b"}])"));
}

TEST_F(WorkerdHandlerTest, BulkGetHasNoEnvelope) {
  api_.records["k1"] = {"v1", "{\"x\":1}", 0};
  HttpResponse r = Call("POST", "/bulk/get", R"({"keys":["k1","missing"]})");
  EXPECT_EQ(json::parse(r.body), json::parse(R"({"k1":"v1","missing":null})"));
  r = Call("POST", "/bulk/get", R"({"keys":["k1","missing"],"withMetadata":true,"cacheTtl":"60"})");
  EXPECT_EQ(json::parse(r.body),
            json::parse(R"({"k1":{"value":"v1","metadata":{"x":1}},"missing":null})"));
}

TEST_F(WorkerdHandlerTest, ErrorsAreInTheReasonPhraseAndCallNothing) {
  struct Bad {
    std::string method, target, body;
    int status;
    std::string reason;
  };
  const std::vector<Bad> cases = {
      {"PUT", "/k?expiration_ttl=abc", "v", 400, "Invalid expiration_ttl of abc"},
      {"PUT", "/k?expiration=0", "v", 400, "Invalid expiration of 0"},
      {"GET", "/?key_count_limit=1001", "", 400, "key_count_limit of 1001"},
      {"GET", "/?key_count_limit=0", "", 400, "greater than 0"},
      {"GET", "/k?cache_ttl=x", "", 400, "Invalid cache_ttl of x"},
      {"GET", "/a%zz", "", 400, "Could not URL-decode key name"},
      {"POST", "/bulk/get", R"({"keys":["a"],"type":"xml"})", 400, "not a valid type"},
      {"POST", "/bulk/get", "[1]", 400, "JSON object"},
      {"POST", "/k", "", 405, "not allowed"},
      {"PUT", "/", "", 400, "not allowed"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    HttpResponse r = Call(c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status);
    EXPECT_THAT(r.reason, HasSubstr(c.reason));
  }
  HttpResponse r = Call("GET", "/k", "", {}, /*with_namespace=*/false);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.reason, HasSubstr("X-KV-Namespace-Id"));
  EXPECT_THAT(api_.calls, IsEmpty());
}

}  // namespace
}  // namespace kv::http
