// The metrics port's handler: the text exposition of every collectable at
// /metrics, and precise refusals for anything else; served by a real
// HttpServer on loopback (plain HTTP here; HTTPS in tests/integration/tls_itest.cc).
#include "common/http/metrics_handler.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "absl/strings/str_cat.h"
#include "common/loopback_http.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kv::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsHandlerTest, ServesEveryCollectableAtMetricsOnly) {
  auto first = std::make_shared<prometheus::Registry>();
  auto second = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("kv_test_first_total").Help("first").Register(*first).Add({})
      .Increment(3);
  prometheus::BuildCounter().Name("kv_test_second_total").Help("second").Register(*second).Add(
      {{"peer", "2"}});
  std::unique_ptr<TokenAuthenticator> open = TokenAuthenticator::Open("dev");
  MetricsHandler handler({first, second}, *open);
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      StartMetricsServer("127.0.0.1:0", TlsMaterial{}, handler);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();

  absl::StatusOr<std::string> page = HttpGet(port, "/metrics", absl::Seconds(10));
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_THAT(*page, HasSubstr("kv_test_first_total 3"));
  EXPECT_THAT(*page, HasSubstr("kv_test_second_total{peer=\"2\"} 0"));

  HttpRequest request;
  request.method = "GET";
  request.path = "/other";
  HttpResponse response;
  handler.Handle(request, &response);
  EXPECT_EQ(response.status, 404);
  EXPECT_THAT(response.body, HasSubstr("/metrics"));
  request.method = "POST";
  request.path = "/metrics";
  response = HttpResponse();
  handler.Handle(request, &response);
  EXPECT_EQ(response.status, 405);
  EXPECT_THAT(response.body, HasSubstr("POST"));
  EXPECT_FALSE(HttpGet(port, "/other", absl::Seconds(10)).ok());
}

// With a tokens file, a scrape needs a metrics token: 401 with a Bearer
// challenge without one (or with an unknown one), 403 for a client's token,
// the page for the scraper's.
TEST(MetricsHandlerTest, WithTokensOnlyAMetricsTokenScrapes) {
  auto registry = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("kv_test_total").Help("t").Register(*registry).Add({});
  absl::StatusOr<std::unique_ptr<TokenAuthenticator>> auth =
      TokenAuthenticator::FromText("scrape-token scrapers metrics\nwrite-token acct1 write\n");
  ASSERT_TRUE(auth.ok()) << auth.status();
  MetricsHandler handler({registry}, **auth);
  auto scrape = [&](const char* authorization) {
    HttpRequest request;
    request.method = "GET";
    request.path = "/metrics";
    if (authorization != nullptr) request.headers.emplace_back("authorization", authorization);
    HttpResponse response;
    handler.Handle(request, &response);
    return response;
  };
  auto header = [](const HttpResponse& response, absl::string_view name) -> std::string {
    for (const auto& [n, v] : response.headers) {
      if (n == name) return v;
    }
    return "";
  };
  for (const char* missing : {static_cast<const char*>(nullptr), "Bearer nope", "Basic x"}) {
    HttpResponse refused = scrape(missing);
    EXPECT_EQ(refused.status, 401) << (missing ? missing : "no header");
    EXPECT_EQ(header(refused, "WWW-Authenticate"), "Bearer realm=\"metrics\"");
    EXPECT_THAT(refused.body, Not(HasSubstr("kv_test_total")));
  }
  HttpResponse client = scrape("Bearer write-token");
  EXPECT_EQ(client.status, 403);
  EXPECT_THAT(client.body, HasSubstr("/metrics needs a metrics token"));
  EXPECT_EQ(header(client, "WWW-Authenticate"), "");
  HttpResponse scraper = scrape("Bearer scrape-token");
  EXPECT_EQ(scraper.status, 200);
  EXPECT_THAT(scraper.body, HasSubstr("kv_test_total 0"));
}

}  // namespace
}  // namespace kv::http
