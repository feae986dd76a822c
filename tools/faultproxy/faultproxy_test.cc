// Unit tests of kv-faultproxy's parsers and control routes (in process; the
// forwarding itself is tested against the real binary in
// tests/integration/faultproxy_itest.cc).
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tools/faultproxy/control_api.h"
#include "tools/faultproxy/faults.h"
#include "tools/faultproxy/http_server.h"
#include "tools/faultproxy/link_set.h"
#include "tools/faultproxy/link_spec.h"
#include "tools/faultproxy/net_util.h"

namespace kv::faultproxy {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;

absl::Status Patch(const std::string& text, LinkFaults& faults) {
  return ApplyFaultPatch(json::parse(text), faults);
}

TEST(FaultPatch, BothDirectionsThenPerDirectionWins) {
  LinkFaults f;
  ASSERT_TRUE(Patch(R"({"up": {"latency_ms": 7}, "latency_ms": 20, "jitter_ms": 5.5})", f).ok());
  EXPECT_EQ(f.up.latency, absl::Milliseconds(7));
  EXPECT_EQ(f.down.latency, absl::Milliseconds(20));
  EXPECT_EQ(f.up.jitter, absl::Microseconds(5500));
  EXPECT_EQ(f.down.jitter, absl::Microseconds(5500));
  EXPECT_FALSE(f.refuse);
}

TEST(FaultPatch, OnlyGivenFieldsChange) {
  LinkFaults f;
  ASSERT_TRUE(Patch(R"({"latency_ms": 20, "blackhole": "up", "refuse": true})", f).ok());
  ASSERT_TRUE(Patch(R"({"blackhole": "down", "drop": "both"})", f).ok());
  EXPECT_EQ(f.up.latency, absl::Milliseconds(20));
  EXPECT_FALSE(f.up.blackhole);
  EXPECT_TRUE(f.down.blackhole);
  EXPECT_TRUE(f.up.drop && f.down.drop);
  EXPECT_TRUE(f.refuse);
  ASSERT_TRUE(Patch(R"({"blackhole": "none", "drop": "none", "refuse": false})", f).ok());
  EXPECT_FALSE(f.down.blackhole || f.up.drop || f.refuse);
}

TEST(FaultPatch, BadInputIsRejectedAndChangesNothing) {
  LinkFaults f;
  f.up.latency = absl::Milliseconds(3);
  const LinkFaults before = f;
  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {R"({"latency": 5})", "unknown field \"latency\""},
      {R"({"latency_ms": -1})", "\"latency_ms\" is -1"},
      {R"({"latency_ms": "5"})", "must be a number"},
      {R"({"jitter_ms": 600001})", "0..600000"},
      {R"({"up": {"latency_ms": 1, "x": 2}})", "unknown field \"up.x\""},
      {R"({"down": 5})", "\"down\" must be an object"},
      {R"({"blackhole": "sideways"})", "\"none\", \"up\", \"down\" or \"both\""},
      {R"({"drop": true})", "\"drop\" is true"},
      {R"({"refuse": 1})", "\"refuse\" must be true or false"},
      {R"({"latency_ms": 50, "refuse": "yes"})", "\"refuse\""},
      {R"([1])", "must be a JSON object"},
  };
  for (const Case& c : cases) {
    absl::Status s = Patch(c.body, f);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.message)) << c.body;
    EXPECT_TRUE(f == before) << c.body;
  }
}

TEST(FaultPatch, JsonRoundTrip) {
  LinkFaults f;
  ASSERT_TRUE(Patch(R"({"latency_ms": 12, "down": {"jitter_ms": 3}, "blackhole": "down",
                       "drop": "up", "refuse": true})",
                    f)
                  .ok());
  LinkFaults g;
  ASSERT_TRUE(ApplyFaultPatch(FaultsToJson(f), g).ok()) << FaultsToJson(f).dump();
  EXPECT_TRUE(f == g) << FaultsToJson(g).dump();
}

TEST(HostPortParse, AcceptsAndRejects) {
  absl::StatusOr<HostPort> hp = ParseHostPort("127.0.0.1:7100", false);
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->ToString(), "127.0.0.1:7100");
  EXPECT_TRUE(ParseHostPort("localhost:1", false).ok());
  EXPECT_TRUE(ParseHostPort("0.0.0.0:0", true).ok());
  EXPECT_THAT(std::string(ParseHostPort("127.0.0.1:0", false).status().message()),
              HasSubstr("port 0"));
  EXPECT_THAT(std::string(ParseHostPort("127.0.0.1", false).status().message()),
              HasSubstr("not HOST:PORT"));
  EXPECT_THAT(std::string(ParseHostPort("example.com:80", false).status().message()),
              HasSubstr("not a dotted IPv4"));
  EXPECT_THAT(std::string(ParseHostPort("127.0.0.1:65536", false).status().message()),
              HasSubstr("0..65535"));
  EXPECT_FALSE(ParseHostPort("127.0.0.1:-1", false).ok());
  EXPECT_FALSE(ParseHostPort(":80", false).ok());
}

TEST(LinkSpecParse, Forms) {
  absl::StatusOr<LinkSpec> s = ParseLinkSpec("c1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->name, "c1");
  EXPECT_FALSE(s->target.has_value());
  s = ParseLinkSpec("c2@127.0.0.1:0=127.0.0.1:7100");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->listen.ToString(), "127.0.0.1:0");
  EXPECT_EQ(s->target->ToString(), "127.0.0.1:7100");
  EXPECT_THAT(std::string(ParseLinkSpec("a b=127.0.0.1:1").status().message()),
              HasSubstr("may contain only"));
  EXPECT_THAT(std::string(ParseLinkSpec("c=127.0.0.1").status().message()), HasSubstr("target"));
  EXPECT_THAT(std::string(ParseLinkSpec("c@x:1").status().message()), HasSubstr("listen"));
  EXPECT_FALSE(ParseLinkSpec("").ok());
}

TEST(HttpHead, Parses) {
  size_t length = 99;
  absl::StatusOr<HttpRequest> r = ParseRequestHead(
      "POST /links/a/fault?x=1 HTTP/1.1\r\nHost: x\r\ncontent-length: 12", length);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->path, "/links/a/fault");
  EXPECT_EQ(length, 12u);
  r = ParseRequestHead("GET /links HTTP/1.0", length);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(length, 0u);
}

TEST(HttpHead, Rejects) {
  size_t length = 0;
  EXPECT_THAT(std::string(ParseRequestHead("GET", length).status().message()),
              HasSubstr("malformed request line"));
  EXPECT_THAT(std::string(ParseRequestHead("GET links HTTP/1.1", length).status().message()),
              HasSubstr("malformed request line"));
  EXPECT_THAT(std::string(ParseRequestHead("GET / SPDY/3", length).status().message()),
              HasSubstr("unsupported version"));
  EXPECT_THAT(
      std::string(ParseRequestHead("POST / HTTP/1.1\r\nContent-Length: x", length).status().message()),
      HasSubstr("bad Content-Length"));
  EXPECT_THAT(std::string(ParseRequestHead("POST / HTTP/1.1\r\nContent-Length: 1000000", length)
                              .status()
                              .message()),
              HasSubstr("the limit is"));
  EXPECT_THAT(std::string(ParseRequestHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked", length)
                              .status()
                              .message()),
              HasSubstr("Transfer-Encoding"));
  EXPECT_THAT(std::string(ParseRequestHead("GET / HTTP/1.1\r\nnocolon", length).status().message()),
              HasSubstr("malformed header"));
}

class ControlApiTest : public ::testing::Test {
 protected:
  // The response status and its body parsed.
  std::pair<int, json> Call(const std::string& method, const std::string& path,
                            const std::string& body = "") {
    HttpResponse r = HandleControlRequest(links_, HttpRequest{method, path, body});
    json parsed = json::parse(r.body, nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << r.body;
    return {r.status, parsed};
  }
  LinkSet links_{1 << 20};
};

TEST_F(ControlApiTest, LinkLifecycle) {
  auto [status, body] = Call("POST", "/links", R"({"name": "a", "target": "127.0.0.1:9"})");
  ASSERT_EQ(status, 201) << body.dump();
  EXPECT_GT(body["listen_port"].get<int>(), 0);
  EXPECT_EQ(body["target"], "127.0.0.1:9");
  EXPECT_EQ(Call("POST", "/links", R"({"name": "a"})").first, 409);

  std::tie(status, body) = Call("POST", "/links/a/fault", R"({"latency_ms": 5, "blackhole": "up"})");
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["faults"]["up"]["latency_ms"], 5.0);
  EXPECT_EQ(body["faults"]["blackhole"], "up");
  std::tie(status, body) = Call("POST", "/links/a/fault", R"({"refuse": true})");
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["faults"]["blackhole"], "up");  // merged
  EXPECT_TRUE(body["faults"]["refuse"].get<bool>());
  std::tie(status, body) = Call("POST", "/links/a/clear");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["faults"], FaultsToJson(LinkFaults{}));

  std::tie(status, body) = Call("POST", "/links/a/target", R"({"target": ""})");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["target"], "");
  std::tie(status, body) = Call("POST", "/links/a/reset");
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["reset"], 0);
  std::tie(status, body) = Call("GET", "/links");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(body["links"].size(), 1u);
  EXPECT_EQ(body["links"][0]["counters"]["bytes_up"], 0);
  EXPECT_EQ(Call("POST", "/clear").first, 200);
  EXPECT_EQ(Call("DELETE", "/links/a").first, 200);
  EXPECT_EQ(Call("GET", "/links/a").first, 404);
}

TEST_F(ControlApiTest, BadRequestsSayWhy) {
  ASSERT_EQ(Call("POST", "/links", R"({"name": "b"})").first, 201);
  struct Case {
    const char* method;
    const char* path;
    const char* body;
    int status;
    const char* message;
  } cases[] = {
      {"POST", "/links", "{", 400, "not valid JSON"},
      {"POST", "/links", "[]", 400, "must be a JSON object"},
      {"POST", "/links", "{}", 400, "\"name\" is required"},
      {"POST", "/links", R"({"name": 5})", 400, "\"name\" must be a string"},
      {"POST", "/links", R"({"name": "x/y"})", 400, "may contain only"},
      {"POST", "/links", R"({"name": "c", "port": 1})", 400, "unknown field \"port\""},
      {"POST", "/links", R"({"name": "c", "target": "nowhere"})", 400, "not HOST:PORT"},
      {"POST", "/links", R"({"name": "c", "listen": "127.0.0.1:99999"})", 400, "0..65535"},
      {"POST", "/links/b/target", "{}", 400, "\"target\" is required"},
      {"POST", "/links/b/target", R"({"target": "127.0.0.1:0"})", 400, "port 0"},
      {"POST", "/links/b/fault", R"({"latency_ms": -5})", 400, "latency_ms"},
      {"POST", "/links/b/reset", R"({"all": true})", 400, "takes no fields"},
      {"POST", "/links/b/explode", "", 404, "unknown action"},
      {"GET", "/links/b/fault", "", 405, "use POST"},
      {"PUT", "/links", "", 405, "use GET or POST"},
      {"POST", "/links/zz/fault", "{}", 404, "no link \"zz\""},
      {"GET", "/nothing", "", 404, "no route"},
  };
  for (const Case& c : cases) {
    auto [status, body] = Call(c.method, c.path, c.body);
    EXPECT_EQ(status, c.status) << c.method << " " << c.path << " " << c.body;
    EXPECT_THAT(body.value("error", ""), HasSubstr(c.message))
        << c.method << " " << c.path << " " << c.body;
  }
}

}  // namespace
}  // namespace kv::faultproxy
