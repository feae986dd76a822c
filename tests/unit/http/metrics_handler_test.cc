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

TEST(MetricsHandlerTest, ServesEveryCollectableAtMetricsOnly) {
  auto first = std::make_shared<prometheus::Registry>();
  auto second = std::make_shared<prometheus::Registry>();
  prometheus::BuildCounter().Name("kv_test_first_total").Help("first").Register(*first).Add({})
      .Increment(3);
  prometheus::BuildCounter().Name("kv_test_second_total").Help("second").Register(*second).Add(
      {{"peer", "2"}});
  MetricsHandler handler({first, second});
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

}  // namespace
}  // namespace kv::http
