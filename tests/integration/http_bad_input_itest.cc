// The bad-input matrix of the HTTP front ends (issue 6): every case over the
// REST API (at a central and at an edge) and the workerd protocol (at an
// edge) gets its 4xx, the error envelope (REST: success=false, code,
// message; workerd: the message as reason phrase) and leaves a canary key,
// the key list and the namespace list untouched. Plus truncated bodies,
// half-open and slow clients, and malformed HTTP.
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/central_process.h"
#include "tests/harness/edge_process.h"
#include "tests/harness/raw_http_client.h"
#include "tests/harness/process.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::testing {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

constexpr char kWriter[] = "http-writer-token-0123456789";
constexpr char kReader[] = "http-reader-token-0123456789";
constexpr char kOther[] = "http-other-account-token-0123";
constexpr char kEdgeToken[] = "http-edge-stream-token-012345";
constexpr char kAccount[] = "0123456789abcdef0123456789abcdef";
constexpr char kOtherAccount[] = "fedcba9876543210fedcba9876543210";
constexpr char kUnknownNs[] = "00000000000000000000000000000000";

enum class Api { kRestCentral, kRestEdge, kWorkerd };

struct Case {
  std::string name;
  Api api;
  std::string method;
  // REST: appended to /client/v4/accounts/<account>/storage/kv/namespaces
  // ("{ns}" is replaced); workerd: the whole target.
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int status;
  int cf_code;  // REST only; 0 = not checked
  std::string message;  // a substring of the error message
  std::string token = kWriter;
  std::string account = kAccount;
};

class HttpBadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kv-http");
    ASSERT_OK(dir);
    dir_ = dir->release();
    const std::string tokens = dir_->Path("tokens");
    ASSERT_OK(WriteStringToFile(
        tokens, absl::StrCat(kWriter, " ", kAccount, " write\n", kReader, " ", kAccount,
                             " read\n", kOther, " ", kOtherAccount, " write\n", kEdgeToken,
                             " ", kAccount, " edge\n")));
    const std::vector<std::string> limits = {"--max_value_bytes=1024", "--max_metadata_bytes=64",
                                             "--max_bulk_entries=100",
                                             "--http_request_timeout=1s"};
    CentralProcessOptions c;
    c.dev = false;
    c.tokens_file = tokens;
    c.http = true;
    c.extra_flags = limits;
    absl::StatusOr<std::unique_ptr<CentralProcess>> central =
        CentralProcess::Start(dir_->Path("central"), c);
    ASSERT_OK(central);
    central_ = central->release();
    EdgeProcessOptions e;
    e.centrals = {central_->grpc_addr()};
    e.dev = false;
    e.tokens_file = tokens;
    e.http = true;
    e.workerd = true;
    e.extra_flags = limits;
    e.extra_flags.push_back(absl::StrCat("--upstream_token=", kEdgeToken));
    absl::StatusOr<std::unique_ptr<EdgeProcess>> edge =
        EdgeProcess::Start(dir_->Path("edge"), e);
    ASSERT_OK(edge);
    edge_ = edge->release();

    absl::StatusOr<HttpReply> created =
        HttpCall(central_->http_port(), "POST", Base(kAccount), Auth(kWriter),
                 R"({"title":"bad-input"})");
    ASSERT_OK(created);
    ASSERT_EQ(created->status, 200) << created->body;
    ns_ = json::parse(created->body)["result"]["id"];
    absl::StatusOr<HttpReply> put =
        HttpCall(central_->http_port(), "PUT",
                 absl::StrCat(Base(kAccount), "/", ns_, "/values/canary"), Auth(kWriter),
                 "canary-value");
    ASSERT_OK(put);
    ASSERT_EQ(put->status, 200) << put->body;
  }

  static void TearDownTestSuite() {
    delete edge_;
    delete central_;
    delete dir_;
  }

  static std::string Base(absl::string_view account) {
    return absl::StrCat("/client/v4/accounts/", account, "/storage/kv/namespaces");
  }
  static std::vector<std::pair<std::string, std::string>> Auth(absl::string_view token) {
    return {{"Authorization", absl::StrCat("Bearer ", token)}};
  }

  // The canary, the key list and the namespace list are as set up.
  static void ExpectUntouched(const std::string& context) {
    SCOPED_TRACE(context);
    const int port = central_->http_port();
    absl::StatusOr<HttpReply> value = HttpCall(
        port, "GET", absl::StrCat(Base(kAccount), "/", ns_, "/values/canary"), Auth(kWriter), "");
    ASSERT_OK(value);
    EXPECT_EQ(value->status, 200);
    EXPECT_EQ(value->body, "canary-value");
    absl::StatusOr<HttpReply> keys =
        HttpCall(port, "GET", absl::StrCat(Base(kAccount), "/", ns_, "/keys"), Auth(kWriter), "");
    ASSERT_OK(keys);
    EXPECT_EQ(json::parse(keys->body)["result"], json::parse(R"([{"name":"canary"}])"));
    absl::StatusOr<HttpReply> spaces = HttpCall(port, "GET", Base(kAccount), Auth(kWriter), "");
    ASSERT_OK(spaces);
    const json listed = json::parse(spaces->body)["result"];
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0]["title"], "bad-input");
  }

  static void Run(const Case& c) {
    SCOPED_TRACE(c.name);
    std::string target = c.target;
    for (size_t at = target.find("{ns}"); at != std::string::npos; at = target.find("{ns}")) {
      target.replace(at, 4, ns_);
    }
    int port = 0;
    std::vector<std::pair<std::string, std::string>> headers = c.headers;
    for (auto& [name, value] : headers) {
      if (value == "{ns}") value = ns_;
    }
    if (!c.token.empty()) headers.emplace_back("Authorization", absl::StrCat("Bearer ", c.token));
    if (c.api == Api::kWorkerd) {
      port = edge_->workerd_port();
    } else {
      port = c.api == Api::kRestCentral ? central_->http_port() : edge_->http_port();
      target = absl::StrCat(Base(c.account), target);
    }
    absl::StatusOr<HttpReply> reply =
        HttpCall(port, c.method, target, headers, c.body, absl::Seconds(30));
    ASSERT_OK(reply);
    EXPECT_EQ(reply->status, c.status) << reply->reason << " " << reply->body;
    EXPECT_GE(reply->status, 400);
    EXPECT_LT(reply->status, 500);
    if (c.api == Api::kWorkerd) {
      EXPECT_THAT(reply->reason, HasSubstr(c.message));
    } else {
      EXPECT_EQ(reply->Header("content-type"), "application/json");
      const json body = json::parse(reply->body, nullptr, false);
      ASSERT_FALSE(body.is_discarded()) << reply->body;
      EXPECT_EQ(body["success"], false);
      EXPECT_TRUE(body["result"].is_null());
      ASSERT_EQ(body["errors"].size(), 1u) << reply->body;
      if (c.cf_code != 0) {
        EXPECT_EQ(body["errors"][0]["code"], c.cf_code) << reply->body;
      }
      EXPECT_THAT(body["errors"][0]["message"].get<std::string>(), HasSubstr(c.message));
    }
    ExpectUntouched(c.name);
  }

  static TempDir* dir_;
  static CentralProcess* central_;
  static EdgeProcess* edge_;
  static std::string ns_;
};

TempDir* HttpBadInputTest::dir_ = nullptr;
CentralProcess* HttpBadInputTest::central_ = nullptr;
EdgeProcess* HttpBadInputTest::edge_ = nullptr;
std::string HttpBadInputTest::ns_;

std::string Multipart(const std::vector<std::pair<std::string, std::string>>& parts,
                      bool close = true) {
  std::string body;
  for (const auto& [name, data] : parts) {
    absl::StrAppend(&body, "--XyZ\r\nContent-Disposition: form-data; name=\"", name,
                    "\"\r\n\r\n", data, "\r\n");
  }
  if (close) absl::StrAppend(&body, "--XyZ--\r\n");
  return body;
}

const std::pair<std::string, std::string> kMultipartType = {
    "Content-Type", "multipart/form-data; boundary=XyZ"};

std::vector<Case> Cases() {
  const std::string big(1025, 'x');
  const std::string huge(200 << 10, 'x');
  const std::string key513(513, 'k');
  std::string entries101 = "[";
  std::string keys101;
  for (int i = 0; i < 101; ++i) {
    absl::StrAppend(&entries101, i ? "," : "", R"({"key":"k)", i, R"(","value":"v"})");
    absl::StrAppend(&keys101, i ? "," : "", "\"k", i, "\"");
  }
  absl::StrAppend(&entries101, "]");
  const Api C = Api::kRestCentral, E = Api::kRestEdge, W = Api::kWorkerd;
  const std::pair<std::string, std::string> ns_header = {"X-KV-Namespace-Id", "{ns}"};
  std::vector<Case> cases = {
      {"create: malformed JSON", C, "POST", "", {}, "{\"title\":", 400, 10001, "not valid JSON"},
      {"create: title not a string", C, "POST", "", {}, R"({"title":5})", 400, 10001, "title"},
      {"create: duplicate title", C, "POST", "", {}, R"({"title":"bad-input"})", 400, 10014,
       "already exists"},
      {"create at edge: duplicate title (central's code kept)", E, "POST", "", {},
       R"({"title":"bad-input"})", 400, 10014, "already exists"},
      {"rename: empty title", C, "PUT", "/{ns}", {}, R"({"title":""})", 400, 0, "empty"},
      {"bulk write: malformed JSON", C, "PUT", "/{ns}/bulk", {}, "[{", 400, 10001,
       "not valid JSON"},
      {"bulk write: not an array", C, "PUT", "/{ns}/bulk", {}, R"({"key":"a"})", 400, 10001,
       "JSON array"},
      {"bulk write: value not a string", C, "PUT", "/{ns}/bulk", {},
       R"([{"key":"ok","value":"v"},{"key":"canary","value":5}])", 400, 10001,
       "entry 1 (key \"canary\")"},
      {"bulk write: one oversize value", C, "PUT", "/{ns}/bulk", {},
       absl::StrCat(R"([{"key":"ok","value":"v"},{"key":"canary","value":")", big, "\"}]"), 413,
       0, "exceeds limit of 1024"},
      {"bulk write: bad base64", C, "PUT", "/{ns}/bulk", {},
       R"([{"key":"canary","value":"!!!","base64":true}])", 400, 10001, "base64"},
      {"bulk write: TTL under the minimum", C, "PUT", "/{ns}/bulk", {},
       R"([{"key":"canary","value":"v","expiration_ttl":30}])", 400, 0, "at least 60"},
      {"bulk write: past expiration", C, "PUT", "/{ns}/bulk", {},
       R"([{"key":"canary","value":"v","expiration":1000}])", 400, 0, "Invalid expiration"},
      {"bulk write: 101 entries over a limit of 100", C, "PUT", "/{ns}/bulk", {}, entries101, 400,
       0, "limit of 100"},
      {"bulk delete: not strings", C, "POST", "/{ns}/bulk/delete", {}, R"(["canary",1])", 400,
       10001, "not a string"},
      {"bulk delete (DELETE form): malformed JSON", C, "DELETE", "/{ns}/bulk", {}, "[\"canary\"",
       400, 10001, "not valid JSON"},
      {"put: value over the limit", C, "PUT", "/{ns}/values/canary", {}, big, 413, 0,
       "Value length of 1025 exceeds limit of 1024."},
      {"put: body far over the limit", C, "PUT", "/{ns}/values/canary", {}, huge, 413, 0,
       "exceeds the limit"},
      {"put: key of 513 bytes", C, "PUT", "/{ns}/values/" + key513, {}, "v", 414, 0,
       "exceeds key length limit of 512"},
      {"put: key \".\"", C, "PUT", "/{ns}/values/%2E", {}, "v", 400, 0, "Illegal key name"},
      {"put: TTL under the minimum", C, "PUT", "/{ns}/values/canary?expiration_ttl=30", {}, "v",
       400, 0, "Expiration TTL must be at least 60"},
      {"put: TTL not a number", C, "PUT", "/{ns}/values/canary?expiration_ttl=abc", {}, "v", 400,
       0, "Invalid expiration_ttl of abc"},
      {"put: expiration in the past", C, "PUT", "/{ns}/values/canary?expiration=1000", {}, "v",
       400, 0, "Invalid expiration of 1000"},
      {"put multipart: metadata not JSON", C, "PUT", "/{ns}/values/canary", {kMultipartType},
       Multipart({{"value", "v"}, {"metadata", "{nope"}}), 400, 0, "etadata"},
      {"put multipart: metadata over the limit", C, "PUT", "/{ns}/values/canary",
       {kMultipartType},
       Multipart({{"value", "v"}, {"metadata", absl::StrCat("\"", std::string(80, 'm'), "\"")}}),
       413, 0, "Metadata length of 82 exceeds limit of 64."},
      {"put multipart: no value part", C, "PUT", "/{ns}/values/canary", {kMultipartType},
       Multipart({{"metadata", "{}"}}), 400, 10001, "no \"value\" part"},
      {"put multipart: metadata object flattened", C, "PUT", "/{ns}/values/canary",
       {kMultipartType}, Multipart({{"value", "v"}, {"metadata[x]", "1"}}), 400, 10001,
       "metadata must be sent as a JSON string"},
      {"put multipart: truncated body", C, "PUT", "/{ns}/values/canary", {kMultipartType},
       Multipart({{"value", "v"}}, /*close=*/false).substr(0, 40), 400, 10001,
       "Malformed multipart"},
      {"put: unknown namespace", C, "PUT", absl::StrCat("/", kUnknownNs, "/values/canary"), {},
       "v", 404, 10013, "namespace not found"},
      {"put: malformed namespace id", C, "PUT", "/not-a-namespace/values/canary", {}, "v", 404,
       10013, "32 lowercase hex"},
      {"put: no token", C, "PUT", "/{ns}/values/canary", {}, "v", 401, 10000, "", ""},
      {"put: unknown token", C, "PUT", "/{ns}/values/canary", {}, "v", 401, 10000, "",
       "not-a-token"},
      {"put: token of another account", C, "PUT", "/{ns}/values/canary", {}, "v", 403, 10000, "",
       kOther},
      {"put: read-only token", C, "PUT", "/{ns}/values/canary", {}, "v", 403, 10000, "", kReader},
      {"bulk delete: read-only token", C, "POST", "/{ns}/bulk/delete", {}, R"(["canary"])", 403,
       10000, "", kReader},
      {"delete namespace: another account's path", C, "DELETE", "/{ns}", {}, "", 403, 10000, "",
       kWriter, kOtherAccount},
      {"keys: limit over 1000", C, "GET", "/{ns}/keys?limit=1001", {}, "", 400, 0,
       "key_count_limit of 1001"},
      {"bulk get: 101 keys", C, "POST", "/{ns}/bulk/get", {},
       absl::StrCat(R"({"keys":[)", keys101, "]}"), 400, 0, "maximum of 100 keys"},
      {"bulk get: bad type", C, "POST", "/{ns}/bulk/get", {},
       R"({"keys":["canary"],"type":"xml"})", 400, 0, "not a valid type"},
      {"bulk get: non-JSON value as json", C, "POST", "/{ns}/bulk/get", {},
       R"({"keys":["canary"],"type":"json"})", 400, 0, "non-json value"},
      {"path not routable", C, "GET", "/{ns}/nothing/here", {}, "", 400, 7003,
       "Could not route"},
      {"key with a bad escape", C, "PUT", "/{ns}/values/a%zz", {}, "v", 400, 10001,
       "URL-decode"},
      {"edge put: value over the limit", E, "PUT", "/{ns}/values/canary", {}, big, 413, 0,
       "Value length of 1025"},
      {"edge put: read-only token", E, "PUT", "/{ns}/values/canary", {}, "v", 403, 10000, "",
       kReader},
      {"edge put: unknown namespace", E, "PUT", absl::StrCat("/", kUnknownNs, "/values/canary"),
       {}, "v", 404, 10013, "namespace not found"},
      {"edge bulk write: TTL under the minimum", E, "PUT", "/{ns}/bulk", {},
       R"([{"key":"canary","value":"v","expiration_ttl":30}])", 400, 0, "at least 60"},
      {"workerd: no namespace header", W, "PUT", "/canary?urlencoded=true", {}, "v", 400, 0,
       "X-KV-Namespace-Id"},
      {"workerd: no token", W, "PUT", "/canary?urlencoded=true", {ns_header}, "v", 401, 0, "",
       ""},
      {"workerd: read-only token", W, "PUT", "/canary?urlencoded=true", {ns_header}, "v", 403, 0,
       "", kReader},
      {"workerd: unknown namespace", W, "PUT", "/canary?urlencoded=true",
       {{"X-KV-Namespace-Id", kUnknownNs}}, "v", 404, 0, "namespace not found"},
      {"workerd: value over the limit", W, "PUT", "/canary?urlencoded=true", {ns_header}, big,
       413, 0, "Value length of 1025 exceeds limit of 1024."},
      {"workerd: metadata not JSON", W, "PUT", "/canary?urlencoded=true",
       {ns_header, {"CF-KV-Metadata", "{nope"}}, "v", 400, 0, "etadata"},
      {"workerd: TTL under the minimum", W, "PUT", "/canary?urlencoded=true&expiration_ttl=30",
       {ns_header}, "v", 400, 0, "Expiration TTL must be at least 60"},
      {"workerd: list limit over 1000", W, "GET", "/?key_count_limit=1001", {ns_header}, "", 400,
       0, "key_count_limit of 1001"},
      {"workerd: bulk get of 101 keys", W, "POST", "/bulk/get", {ns_header},
       absl::StrCat(R"({"keys":[)", keys101, "]}"), 400, 0, "maximum of 100 keys"},
      {"workerd: bulk get malformed JSON", W, "POST", "/bulk/get", {ns_header}, "{\"keys\":", 400,
       0, "JSON object"},
      {"workerd: key with a bad escape", W, "PUT", "/a%zz?urlencoded=true", {ns_header}, "v", 400,
       0, "Could not URL-decode key name"},
      {"workerd: cache_ttl under the minimum", W, "GET", "/canary?urlencoded=true&cache_ttl=10",
       {ns_header}, "", 400, 0, "cache_ttl"},
  };
  return cases;
}

TEST_F(HttpBadInputTest, EveryCaseIsRejectedWithItsEnvelopeAndChangesNothing) {
  const std::vector<Case> cases = Cases();
  ASSERT_GE(cases.size(), 30u);
  for (const Case& c : cases) Run(c);
}

TEST_F(HttpBadInputTest, WorkerdChunkedBodyOverTheLimitIs413) {
  const std::string raw = absl::StrCat(
      "PUT /canary?urlencoded=true HTTP/1.1\r\nHost: fake-host\r\nAuthorization: Bearer ",
      kWriter, "\r\nX-KV-Namespace-Id: ", ns_,
      "\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n", std::string(1024, 'a'),
      "\r\n10\r\n", std::string(16, 'b'), "\r\n0\r\n\r\n");
  absl::StatusOr<HttpReply> reply = HttpRaw(edge_->workerd_port(), raw);
  ASSERT_OK(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(reply->reason, "Value length exceeds limit of 1024.");
  ExpectUntouched("chunked");
}

// HEAD is answered as its GET would be, without the body: the value's
// length and headers, a missing key's 404, on both REST ports and the
// workerd port; a keep-alive connection then serves the next request.
TEST_F(HttpBadInputTest, HeadAnswersTheGetsStatusAndHeadersWithoutTheBody) {
  const std::string value = absl::StrCat(Base(kAccount), "/", ns_, "/values/canary");
  const std::string missing = absl::StrCat(Base(kAccount), "/", ns_, "/values/no-such-key");
  for (const auto& [port, path, status] : std::vector<std::tuple<int, std::string, int>>{
           {central_->http_port(), value, 200},
           {edge_->http_port(), value, 200},
           {edge_->workerd_port(), "/canary?urlencoded=true", 200},
           {central_->http_port(), missing, 404}}) {
    SCOPED_TRACE(absl::StrCat(port, " ", path));
    absl::StatusOr<RawConnection> conn = RawConnection::Open(port);
    ASSERT_OK(conn);
    const std::string head =
        absl::StrCat(" ", path, " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ", kWriter,
                     "\r\nX-KV-Namespace-Id: ", ns_, "\r\n");
    // HEAD, then a GET on the same connection that closes it.
    ASSERT_OK(conn->Send(absl::StrCat("HEAD", head, "\r\n", "GET", head,
                                      "Connection: close\r\n\r\n")));
    absl::StatusOr<std::string> both = conn->ReadUntilClosed(absl::Seconds(30));
    ASSERT_OK(both);
    // Two answers with the same status line and length; only the GET's has
    // a body.
    const size_t second = both->find("HTTP/1.1", 1);
    ASSERT_NE(second, std::string::npos) << *both;
    const std::string head_answer = both->substr(0, second);
    const std::string get_answer = both->substr(second);
    EXPECT_TRUE(absl::StartsWith(head_answer, absl::StrCat("HTTP/1.1 ", status))) << head_answer;
    EXPECT_TRUE(absl::StartsWith(get_answer, absl::StrCat("HTTP/1.1 ", status))) << get_answer;
    ASSERT_TRUE(absl::EndsWith(head_answer, "\r\n\r\n")) << head_answer;
    const size_t get_body = get_answer.find("\r\n\r\n");
    ASSERT_NE(get_body, std::string::npos);
    const size_t body_bytes = get_answer.size() - get_body - 4;
    if (status == 200) {
      EXPECT_EQ(get_answer.substr(get_body + 4), "canary-value");
    }
    EXPECT_THAT(absl::AsciiStrToLower(head_answer),
                HasSubstr(absl::StrCat("content-length: ", body_bytes, "\r\n")));
  }
  ExpectUntouched("head");
}

TEST_F(HttpBadInputTest, MalformedHttpIs400) {
  for (int port : {central_->http_port(), edge_->http_port(), edge_->workerd_port()}) {
    absl::StatusOr<HttpReply> reply = HttpRaw(port, "THIS IS NOT HTTP\r\n\r\n");
    ASSERT_OK(reply);
    EXPECT_EQ(reply->status, 400);
  }
  ExpectUntouched("malformed");
}

TEST_F(HttpBadInputTest, TruncatedAndHalfOpenBodiesAreDroppedWithinTheTimeout) {
  for (int port : {central_->http_port(), edge_->http_port(), edge_->workerd_port()}) {
    absl::StatusOr<RawConnection> conn = RawConnection::Open(port);
    ASSERT_OK(conn);
    const std::string target = port == edge_->workerd_port()
                                   ? "/canary?urlencoded=true"
                                   : absl::StrCat(Base(kAccount), "/", ns_, "/values/canary");
    ASSERT_OK(conn->Send(absl::StrCat("PUT ", target, " HTTP/1.1\r\nHost: x\r\nAuthorization: ",
                                      "Bearer ", kWriter, "\r\nX-KV-Namespace-Id: ", ns_,
                                      "\r\nContent-Length: 100\r\n\r\nonly-ten-b")));
    // --http_request_timeout=1s: the server gives up on the body and closes.
    absl::StatusOr<std::string> rest = conn->ReadUntilClosed(absl::Seconds(10));
    ASSERT_OK(rest);
    EXPECT_EQ(*rest, "");
  }
  ExpectUntouched("half-open");
  // A slow client sending its head a byte at a time is cut off too, and
  // the server keeps serving others meanwhile.
  absl::StatusOr<RawConnection> slow = RawConnection::Open(edge_->workerd_port());
  ASSERT_OK(slow);
  ASSERT_OK(slow->Send("GET /canary"));
  absl::StatusOr<HttpReply> other =
      HttpCall(edge_->workerd_port(), "GET", "/canary?urlencoded=true",
               {{"Authorization", absl::StrCat("Bearer ", kWriter)},
                {"X-KV-Namespace-Id", ns_}},
               "");
  ASSERT_OK(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_EQ(other->body, "canary-value");
}

// Mutated requests (bytes flipped, cut, duplicated) to all three ports:
// every answer is a 4xx or a closed connection, never a 5xx, and the nodes
// keep serving with the canary untouched.
TEST_F(HttpBadInputTest, MutatedRequestsNeverCrashOrChangeAnything) {
  const std::vector<std::string> seeds = {
      absl::StrCat("PUT ", Base(kAccount), "/", ns_, "/values/canary?expiration_ttl=30",
                   " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ", kReader,
                   "\r\nContent-Length: 5\r\n\r\nhello"),
      absl::StrCat("POST ", Base(kAccount), "/", ns_, "/bulk/get HTTP/1.1\r\nHost: x\r\n",
                   "Authorization: Bearer ", kWriter,
                   "\r\nContent-Length: 21\r\n\r\n{\"keys\":[\"canary\"]}"),
      absl::StrCat("PUT /canary?urlencoded=true HTTP/1.1\r\nHost: fake-host\r\n",
                   "X-KV-Namespace-Id: ", ns_, "\r\nAuthorization: Bearer ", kReader,
                   "\r\nCF-KV-Metadata: {\"a\":1}\r\nTransfer-Encoding: chunked\r\n\r\n",
                   "3\r\nabc\r\n0\r\n\r\n"),
  };
  uint64_t rng = 0x9e3779b97f4a7c15u;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  };
  const std::vector<int> ports = {central_->http_port(), edge_->http_port(),
                                  edge_->workerd_port()};
  int answered = 0;
  for (int i = 0; i < 600; ++i) {
    std::string raw = seeds[next() % seeds.size()];
    const int mutations = 1 + static_cast<int>(next() % 4);
    for (int m = 0; m < mutations; ++m) {
      const size_t at = next() % raw.size();
      switch (next() % 3) {
        case 0:
          raw[at] = static_cast<char>(next());
          break;
        case 1:
          raw.erase(at, 1 + next() % 8);
          break;
        default:
          raw.insert(at, raw.substr(at, 1 + next() % 16));
      }
      if (raw.empty()) raw = "x";
    }
    absl::StatusOr<HttpReply> reply = HttpRaw(ports[i % ports.size()], raw, absl::Seconds(5));
    if (!reply.ok()) continue;  // closed (or the body was cut short: the 1 s timeout)
    ++answered;
    EXPECT_LT(reply->status, 500) << "request " << i << ":\n" << raw;
  }
  EXPECT_GT(answered, 0);
  ExpectUntouched("mutated requests");
}

TEST_F(HttpBadInputTest, ServerSideErrorsAreRetryableNotClientErrors) {
  // A missing key is 404/10009 with the documented message, never 5xx.
  absl::StatusOr<HttpReply> reply =
      HttpCall(central_->http_port(), "GET",
               absl::StrCat(Base(kAccount), "/", ns_, "/values/missing"), Auth(kWriter), "");
  ASSERT_OK(reply);
  EXPECT_EQ(reply->status, 404);
  EXPECT_EQ(reply->reason, "Not Found");
  const json body = json::parse(reply->body);
  EXPECT_EQ(body["errors"][0]["code"], 10009);
  EXPECT_EQ(body["errors"][0]["message"], "get: 'key not found'");
}

// Bodies over Beast's default 8 MB limit pass when the value limit allows
// them (25 MiB by default): raw, multipart and chunked.
TEST(HttpLargeBodyTest, ValuesUpToTheLimitRoundTrip) {
  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kv-http-large");
  ASSERT_OK(dir);
  CentralProcessOptions options;
  options.http = true;
  absl::StatusOr<std::unique_ptr<CentralProcess>> central =
      CentralProcess::Start((*dir)->Path("central"), options);
  ASSERT_OK(central);
  const int port = (*central)->http_port();
  const std::string base = "/client/v4/accounts/devaccount/storage/kv/namespaces";
  absl::StatusOr<HttpReply> created = HttpCall(port, "POST", base, {}, R"({"title":"large"})");
  ASSERT_OK(created);
  const std::string ns = json::parse(created->body)["result"]["id"];
  std::string value(9 << 20, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 131 + (i >> 12));
  const std::string values = absl::StrCat(base, "/", ns, "/values/");
  absl::StatusOr<HttpReply> put = HttpCall(port, "PUT", values + "raw", {}, value);
  ASSERT_OK(put);
  EXPECT_EQ(put->status, 200) << put->body;
  const std::string multipart = absl::StrCat(
      "--XyZ\r\nContent-Disposition: form-data; name=\"value\"; filename=\"v\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n",
      value, "\r\n--XyZ--\r\n");
  put = HttpCall(port, "PUT", values + "multipart", {kMultipartType}, multipart);
  ASSERT_OK(put);
  EXPECT_EQ(put->status, 200) << put->body;
  for (const char* key : {"raw", "multipart"}) {
    absl::StatusOr<HttpReply> got = HttpCall(port, "GET", values + key, {}, "");
    ASSERT_OK(got);
    EXPECT_EQ(got->status, 200);
    EXPECT_TRUE(got->body == value) << key << ": " << got->body.size() << " bytes";
  }
  std::string over(25 << 20, 'x');
  over.push_back('x');
  absl::StatusOr<HttpReply> refused = HttpCall(port, "PUT", values + "raw", {}, over);
  ASSERT_OK(refused);
  EXPECT_EQ(refused->status, 413);
  EXPECT_THAT(json::parse(refused->body)["errors"][0]["message"].get<std::string>(),
              HasSubstr("Value length of 26214401 exceeds limit of 26214400."));
}

}  // namespace
}  // namespace kv::testing
