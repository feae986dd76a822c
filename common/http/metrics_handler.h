#ifndef KV_COMMON_HTTP_METRICS_HANDLER_H_
#define KV_COMMON_HTTP_METRICS_HANDLER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/auth.h"
#include "common/http/http_server.h"

namespace prometheus {
class Collectable;
}

namespace kv::http {

// A node's metrics port (DESIGN §7) on the node's own HTTP server, so it
// serves HTTPS when the node has TLS: GET (and HEAD) /metrics answers the
// Prometheus text exposition format 0.0.4 of `collectables`, collected at
// each scrape on a worker thread (a collector may read the storage);
// another path is 404, another method 405, a request body 413. With a
// tokens file (`auth` not open) a scrape needs `Authorization: Bearer` with
// a metrics-scope token: 401 (and WWW-Authenticate) without a known one,
// 403 for a token of another scope. Thread-safe. The collectables are kept
// alive by the handler; `auth` must outlive it.
class MetricsHandler final : public HttpHandler {
 public:
  MetricsHandler(std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                 const TokenAuthenticator& auth);

  uint64_t BodyLimit(const HttpRequest& head) const override { return 0; }
  void Handle(const HttpRequest& request, HttpResponse* response) override;
  void RenderError(int status, absl::string_view message, HttpResponse* response) const override;

 private:
  const std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  const TokenAuthenticator& auth_;
};

// Starts a node's metrics port on `addr` (host:port; port 0 picks one):
// HTTPS with the node's certificate when `tls` has one (LoadNodeTls), else
// plain HTTP;
// one I/O thread and one worker. Errors as HttpServer::Start.
absl::StatusOr<std::unique_ptr<HttpServer>> StartMetricsServer(const std::string& addr,
                                                               const TlsMaterial& tls,
                                                               MetricsHandler& handler);

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_METRICS_HANDLER_H_
