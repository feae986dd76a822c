// The REST v4 translation (RestHandler) over a fake API: envelopes, shapes
// the clients rely on, and no API call for a request it rejects.
#include "common/http/rest_handler.h"

#include <prometheus/registry.h>

#include <nlohmann/json.hpp>

#include <map>

#include "absl/strings/str_cat.h"
#include "common/error_space.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/http/fake_kv_api.h"

namespace kv::http {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class RestHandlerTest : public ::testing::Test {
 protected:
  RestHandlerTest() : handler_(api_, limits_) {}

  HttpResponse Call(const std::string& method, const std::string& rest, std::string body = "",
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest request;
    request.method = method;
    const std::string target =
        absl::StrCat("/client/v4/accounts/acc/storage/kv/namespaces", rest);
    const size_t q = target.find('?');
    request.path = target.substr(0, q);
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    request.headers = std::move(headers);
    request.body = std::move(body);
    HttpResponse response;
    if (!handler_.TryHandleInline(request, &response)) handler_.Handle(request, &response);
    return response;
  }
  static json Body(const HttpResponse& r) { return json::parse(r.body); }
  static std::string ContentType(const HttpResponse& r) {
    for (const auto& [n, v] : r.headers) {
      if (n == "Content-Type") return v;
    }
    return "";
  }
  std::string Ns() const { return FakeKvApi::kNs; }

  FakeKvApi api_;
  Limits limits_;
  RestHandler handler_;
};

TEST_F(RestHandlerTest, CreateAndRenameReturnTheNamespaceObject) {
  HttpResponse r = Call("POST", "", R"({"title":"t"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ContentType(r), "application/json");
  EXPECT_EQ(Body(r), json::parse(absl::StrCat(
                         R"({"success":true,"errors":[],"messages":[],"result":{"id":")", Ns(),
                         R"(","title":"t","supports_url_encoding":true}})")));
  r = Call("PUT", "/" + Ns(), R"({"title":"renamed"})");
  EXPECT_EQ(Body(r)["result"]["title"], "renamed");
  r = Call("DELETE", "/" + Ns());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["result"], json::object());
}

TEST_F(RestHandlerTest, NamespaceListPastTheEndIsAnEmptyPage) {
  HttpResponse r = Call("GET", "?per_page=1000&order=title&direction=asc");
  EXPECT_EQ(Body(r)["result"].size(), 1u);
  EXPECT_EQ(Body(r)["result_info"]["per_page"], 1000);
  EXPECT_EQ(Body(r)["result_info"]["total_count"], 1);
  r = Call("GET", "?per_page=1000&order=title&direction=asc&page=2");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["result"], json::array());
  EXPECT_EQ(Call("GET", "?per_page=1001").status, 400);
  EXPECT_EQ(Call("GET", "?order=size").status, 400);
}

TEST_F(RestHandlerTest, RawAndMultipartPuts) {
  HttpResponse r = Call("PUT", absl::StrCat("/", Ns(), "/values/k%2B1?expiration_ttl=120"),
                        "raw bytes", {{"content-type", "text/plain;charset=UTF-8"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(api_.records["k+1"].value, "raw bytes");
  EXPECT_EQ(api_.records["k+1"].expiration, 120);  // the fake stores the TTL as given
  EXPECT_FALSE(api_.records["k+1"].metadata.has_value());
  const std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"value\"\r\n\r\nmv\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"m\":2}\r\n--B--\r\n";
  r = Call("PUT", absl::StrCat("/", Ns(), "/values/mk"), body,
           {{"content-type", "multipart/form-data; boundary=B"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(api_.records["mk"].value, "mv");
  EXPECT_EQ(api_.records["mk"].metadata, "{\"m\":2}");
}

TEST_F(RestHandlerTest, ValueReadIsRawWithExpirationAndMissingIs10009) {
  api_.records["k"] = {"v\0x", std::nullopt, 1234};
  HttpResponse r = Call("GET", absl::StrCat("/", Ns(), "/values/k"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, api_.records["k"].value);
  EXPECT_THAT(r.headers, testing::Contains(std::pair<std::string, std::string>("expiration",
                                                                                "1234")));
  r = Call("GET", absl::StrCat("/", Ns(), "/values/missing"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["errors"][0]["code"], 10009);
  EXPECT_EQ(Body(r)["errors"][0]["message"], "get: 'key not found'");
  EXPECT_TRUE(Body(r)["result"].is_null());
}

TEST_F(RestHandlerTest, ValueReadUsesTheCacheInline) {
  api_.cache = true;
  api_.records["k"] = {"v", std::nullopt, 0};
  HttpRequest request;
  request.method = "GET";
  request.path = absl::StrCat("/client/v4/accounts/acc/storage/kv/namespaces/", Ns(),
                              "/values/k");
  HttpResponse response;
  ASSERT_TRUE(handler_.TryHandleInline(request, &response));
  EXPECT_EQ(response.body, "v");
  EXPECT_THAT(api_.calls, ElementsAre("TryGetFromCache"));
}

TEST_F(RestHandlerTest, MetadataAndKeyListCarryParsedJson) {
  api_.records["a"] = {"1", "{\"x\":[1]}", 99};
  api_.records["b"] = {"2", std::nullopt, 0};
  HttpResponse r = Call("GET", absl::StrCat("/", Ns(), "/metadata/a"));
  EXPECT_EQ(Body(r)["result"], json::parse(R"({"x":[1]})"));
  r = Call("GET", absl::StrCat("/", Ns(), "/metadata/b"));
  EXPECT_TRUE(Body(r)["result"].is_null());
  r = Call("GET", absl::StrCat("/", Ns(), "/keys?prefix="));
  EXPECT_EQ(Body(r)["result"],
            json::parse(R"([{"name":"a","expiration":99,"metadata":{"x":[1]}},{"name":"b"}])"));
  EXPECT_EQ(Body(r)["result_info"]["cursor"], "");
  r = Call("GET", absl::StrCat("/", Ns(), "/keys?limit=1"));
  EXPECT_EQ(Body(r)["result_info"]["cursor"], "a");
  EXPECT_EQ(Body(r)["result_info"]["count"], 1);
}

TEST_F(RestHandlerTest, BulkWriteDecodesBase64AndSerializesMetadata) {
  HttpResponse r = Call("PUT", absl::StrCat("/", Ns(), "/bulk"),
                        R"([{"key":"a","value":"aGk=","base64":true,"metadata":{"z":1}},
                            {"key":"b","value":"plain","expiration_ttl":300}])");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["result"], json::parse(R"({"successful_key_count":2,"unsuccessful_keys":[]})"));
  EXPECT_EQ(api_.records["a"].value, "hi");
  EXPECT_EQ(api_.records["a"].metadata, "{\"z\":1}");
  EXPECT_EQ(api_.records["b"].expiration, 300);
}

TEST_F(RestHandlerTest, BulkDeleteInBothForms) {
  api_.records["a"] = {"1", std::nullopt, 0};
  api_.records["b"] = {"2", std::nullopt, 0};
  EXPECT_EQ(Call("DELETE", absl::StrCat("/", Ns(), "/bulk"), R"(["a"])").status, 200);
  EXPECT_EQ(Call("POST", absl::StrCat("/", Ns(), "/bulk/delete"), R"(["b"])").status, 200);
  EXPECT_THAT(api_.records, IsEmpty());
}

TEST_F(RestHandlerTest, BulkGetShapes) {
  api_.records["t"] = {"text", "{\"m\":1}", 0};
  api_.records["j"] = {"{\"n\":2}", std::nullopt, 0};
  HttpResponse r = Call("POST", absl::StrCat("/", Ns(), "/bulk/get"),
                        R"({"keys":["t","j","missing"]})");
  EXPECT_EQ(Body(r)["result"]["values"],
            json::parse(R"({"t":"text","j":"{\"n\":2}","missing":null})"));
  r = Call("POST", absl::StrCat("/", Ns(), "/bulk/get"),
           R"({"keys":["j"],"type":"json","withMetadata":true})");
  EXPECT_EQ(Body(r)["result"]["values"], json::parse(R"({"j":{"value":{"n":2},"metadata":null}})"));
}

TEST_F(RestHandlerTest, RejectedRequestsNeverReachTheApi) {
  const std::vector<std::pair<std::string, std::string>> multipart = {
      {"content-type", "multipart/form-data; boundary=B"}};
  struct Bad {
    std::string method, rest, body;
    int status;
    std::string message;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  const std::string ns = "/" + Ns();
  const std::vector<Bad> cases = {
      {"POST", "", "{", 400, "not valid JSON", {}},
      {"POST", "", "[]", 400, "JSON object", {}},
      {"PUT", ns + "/values/k?expiration_ttl=0", "v", 400,
       "Invalid expiration_ttl of 0. Please specify integer greater than 0.", {}},
      {"PUT", ns + "/values/k?expiration=-5", "v", 400, "Invalid expiration of -5", {}},
      {"PUT", ns + "/values/k", "--B\r\nContent-Disposition: form-data; name=\"metadata[x]\"\r\n\r\n1\r\n--B--", 400,
       "metadata must be sent as a JSON string", multipart},
      {"PUT", ns + "/bulk", R"([{"key":"a","value":"v","expiration":1.5}])", 400,
       "must be an integer", {}},
      {"PUT", ns + "/bulk", R"([{"key":"a","value":"v","base64":"yes"}])", 400,
       "\"base64\" must be a boolean", {}},
      {"PUT", ns + "/bulk", R"(["a"])", 400, "entry 0 is not an object", {}},
      {"POST", ns + "/bulk/get", R"({"keys":"a"})", 400, "array field \"keys\"", {}},
      {"POST", ns + "/bulk/get", R"({"keys":["a"],"withMetadata":"yes"})", 400,
       "must be a boolean", {}},
      {"GET", ns + "/keys?limit=0", "", 400, "greater than 0", {}},
      {"GET", ns + "/keys?limit=abc", "", 400, "key_count_limit of abc", {}},
      {"PATCH", ns + "/values/k", "", 405, "not allowed", {}},
      {"GET", ns + "/bulk", "", 405, "not allowed", {}},
      {"GET", "?page=0", "", 400, "Invalid page of 0", {}},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.method + " " + c.rest);
    HttpResponse r = Call(c.method, c.rest, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(Body(r)["success"], false);
    EXPECT_THAT(Body(r)["errors"][0]["message"].get<std::string>(), HasSubstr(c.message));
  }
  EXPECT_THAT(api_.calls, IsEmpty());
}

TEST_F(RestHandlerTest, ApiErrorsMapToStatusAndCode) {
  api_.fail_with = WithHttpDetail(absl::InvalidArgumentError("dup"), 400, kCfDuplicateTitle);
  HttpResponse r = Call("POST", "", R"({"title":"t"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["errors"][0]["code"], 10014);
  api_.fail_with = absl::UnavailableError("no central");
  r = Call("GET", "/" + Ns());
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.headers, testing::Contains(std::pair<std::string, std::string>("Retry-After",
                                                                                "1")));
  api_.fail_with = absl::PermissionDeniedError("read-only token");
  EXPECT_EQ(Call("PUT", absl::StrCat("/", Ns(), "/values/k"), "v").status, 403);
  api_.fail_with = absl::UnauthenticatedError("no token");
  EXPECT_EQ(Call("GET", absl::StrCat("/", Ns(), "/keys")).status, 401);
}

TEST_F(RestHandlerTest, AccountDiscoveryListsTheTokensAccount) {
  auto discover = [&](const std::string& method, const std::string& target) {
    HttpRequest request;
    request.method = method;
    const size_t q = target.find('?');
    request.path = target.substr(0, q);
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    request.headers = {{"authorization", "Bearer t"}};
    HttpResponse response;
    handler_.Handle(request, &response);
    return response;
  };
  api_.caller_account = "0123456789abcdef0123456789abcdef";
  // What wrangler asks without CLOUDFLARE_ACCOUNT_ID.
  HttpResponse r = discover("GET", "/client/v4/memberships?page=1");
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Body(r);
  EXPECT_EQ(body["success"], true);
  ASSERT_EQ(body["result"].size(), 1u);
  EXPECT_EQ(body["result"][0]["account"]["id"], api_.caller_account);
  EXPECT_EQ(body["result"][0]["status"], "accepted");
  EXPECT_EQ(body["result_info"]["total_count"], 1);
  // The SDK's accounts.list().
  r = discover("GET", "/client/v4/accounts");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["result"][0]["id"], api_.caller_account);
  // Past the one page: empty, so clients that page stop.
  r = discover("GET", "/client/v4/memberships?page=2&per_page=50");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(Body(r)["result"], IsEmpty());
  EXPECT_EQ(Body(r)["result_info"]["per_page"], 50);
  EXPECT_THAT(api_.calls, ElementsAre("CallerAccount", "CallerAccount", "CallerAccount"));

  api_.calls.clear();
  EXPECT_EQ(discover("POST", "/client/v4/memberships").status, 405);
  EXPECT_EQ(discover("GET", "/client/v4/memberships?page=0").status, 400);
  EXPECT_THAT(api_.calls, IsEmpty());
  api_.fail_with = absl::UnauthenticatedError("no token");
  r = discover("GET", "/client/v4/memberships");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(Body(r)["success"], false);
  // Not a prefix match: anything longer is a KV path or no route.
  EXPECT_EQ(discover("GET", "/client/v4/membershipsX").status, 400);
}

// Counts of kv_requests_total{op, code} in `registry`.
double RequestCount(prometheus::Registry& registry, const std::string& op,
                    const std::string& code) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != "kv_requests_total") continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      std::map<std::string, std::string> labels;
      for (const prometheus::ClientMetric::Label& l : m.label) labels[l.name] = l.value;
      if (labels["op"] == op && labels["code"] == code) return m.counter.value;
    }
  }
  return 0;
}

TEST(RestHandlerMetricsTest, RecordsTheOperationAndOutcome) {
  prometheus::Registry registry;
  RequestMetrics metrics(registry);
  FakeKvApi api;
  Limits limits;
  RestHandler handler(api, limits, &metrics);
  auto call = [&](const std::string& method, const std::string& rest, const std::string& body) {
    HttpRequest request;
    request.method = method;
    const std::string target = absl::StrCat("/client/v4/accounts/acc/storage/kv/namespaces/",
                                            FakeKvApi::kNs, rest);
    const size_t q = target.find('?');
    request.path = target.substr(0, q);
    request.query = q == std::string::npos ? "" : target.substr(q + 1);
    request.body = body;
    HttpResponse response;
    handler.Handle(request, &response);
  };
  call("PUT", "/values/k", "v");
  call("PUT", "/values/k?expiration_ttl=x", "v");
  call("POST", "/bulk/get", R"({"keys":["k"]})");
  EXPECT_EQ(RequestCount(registry, "put", "OK"), 1);
  EXPECT_EQ(RequestCount(registry, "put", "INVALID_ARGUMENT"), 1);
  EXPECT_EQ(RequestCount(registry, "bulk_get", "OK"), 1);
}

}  // namespace
}  // namespace kv::http
