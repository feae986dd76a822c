#include "common/http/metrics_handler.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace kv::http {
namespace {

void Plain(int status, absl::string_view message, HttpResponse* response) {
  response->status = status;
  response->AddHeader("Content-Type", "text/plain; charset=utf-8");
  response->body = absl::StrCat(message, "\n");
}

}  // namespace

MetricsHandler::MetricsHandler(std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                               const TokenAuthenticator& auth)
    : collectables_(std::move(collectables)), auth_(auth) {}

void MetricsHandler::Handle(const HttpRequest& request, HttpResponse* response) {
  if (request.path != "/metrics") {
    return Plain(404, "Not found: metrics are served at /metrics", response);
  }
  if (request.method != "GET") {
    response->AddHeader("Allow", "GET, HEAD");
    return Plain(405, absl::StrCat("Method ", request.method.substr(0, 16),
                                   " is not allowed on /metrics"),
                 response);
  }
  if (!auth_.is_open()) {
    const std::string* header = request.Header("authorization");
    absl::StatusOr<Principal> principal = auth_.Authenticate(header == nullptr ? "" : *header);
    absl::Status allowed =
        principal.ok() ? auth_.AuthorizeMetrics(*principal) : principal.status();
    if (!allowed.ok()) {
      const bool unauthenticated = allowed.code() == absl::StatusCode::kUnauthenticated;
      if (unauthenticated) response->AddHeader("WWW-Authenticate", "Bearer realm=\"metrics\"");
      return Plain(unauthenticated ? 401 : 403, allowed.message(), response);
    }
  }
  std::vector<prometheus::MetricFamily> families;
  for (const std::shared_ptr<prometheus::Collectable>& collectable : collectables_) {
    std::vector<prometheus::MetricFamily> collected = collectable->Collect();
    families.insert(families.end(), std::make_move_iterator(collected.begin()),
                    std::make_move_iterator(collected.end()));
  }
  response->status = 200;
  response->AddHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response->body = prometheus::TextSerializer().Serialize(families);
}

absl::StatusOr<std::unique_ptr<HttpServer>> StartMetricsServer(const std::string& addr,
                                                               const TlsMaterial& tls,
                                                               MetricsHandler& handler) {
  HttpServerOptions options;
  options.addr = addr;
  options.io_threads = 1;
  options.worker_threads = 1;
  return HttpServer::Start(WithTls(options, tls), handler);
}

void MetricsHandler::RenderError(int status, absl::string_view message,
                                 HttpResponse* response) const {
  Plain(status, message, response);
}

}  // namespace kv::http
