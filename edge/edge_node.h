#ifndef KV_EDGE_EDGE_NODE_H_
#define KV_EDGE_EDGE_NODE_H_

#include <grpcpp/server.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/request_metrics.h"
#include "common/auth.h"
#include "common/http/http_server.h"
#include "common/http/metrics_handler.h"
#include "common/http/rest_handler.h"
#include "common/http/workerd_handler.h"
#include "common/limits.h"
#include "edge/async_kv_server.h"
#include "edge/central_pool.h"
#include "edge/edge_kv_api.h"
#include "edge/edge_kv_service.h"
#include "edge/edge_metrics.h"
#include "edge/fetcher.h"
#include "edge/lru_cache.h"
#include "edge/namespace_directory.h"
#include "edge/revalidator.h"
#include "edge/stream_client.h"
#include "edge/stream_state.h"
#include "common/tls.h"

namespace kv::edge {

struct EdgeOptions {
  // gRPC addresses of the centrals, in order of preference. Required.
  std::vector<std::string> central_addrs;
  // gRPC listen address; port 0 picks a free port. Default: 127.0.0.1:7300.
  std::string grpc_addr = "127.0.0.1:7300";
  // Prometheus /metrics listen address; port 0 picks one.
  // Default: 127.0.0.1:9300.
  std::string metrics_addr = "127.0.0.1:9300";
  // REST API v4 (Cloudflare's KV endpoints): http.addr is the listen
  // address (port 0 picks a free port); empty disables it. Default: off.
  http::HttpServerOptions http;
  // workerd's KV binding protocol, on its own port; workerd.addr empty
  // disables it. Default: off.
  http::HttpServerOptions workerd;
  // When set, `grpc_port=`, `metrics_port=`, `http_port=`, `workerd_port=`
  // (those served) and `pid=` are written here once serving.
  std::string ready_file;
  // Names this edge in the centrals' logs. Default: "edge".
  std::string edge_id = "edge";
  // Client tokens (same file as the centrals'). Required unless dev.
  std::string tokens_file;
  // Open mode: no auth; only loopback addresses. Default: false.
  bool dev = false;
  // Account used in dev mode when a request names none.
  std::string default_account = "devaccount";
  // Allows a non-loopback address without TLS. Default: false.
  bool insecure = false;
  // TLS on the gRPC port and mutual TLS to the centrals (common/tls.h):
  // all three files or none. Default: none (plain text).
  TlsFiles tls;
  // The edge token this edge subscribes with ("edge" scope in the centrals'
  // tokens file); empty against dev-mode centrals.
  std::string upstream_token;
  // Cache size and shards. Default: 256 MiB, 16 shards (--cache_bytes).
  LruCacheOptions cache;
  // Own writes whose versions are kept for the window even when their
  // cache entries are evicted (--recent_writes). Default: 100,000.
  size_t recent_writes = 100000;
  // Longest a read may be served without proof that nothing changed.
  // Default: 60 s (--window).
  absl::Duration window = absl::Seconds(60);
  // Deadline of each call to a central. Default: 2 s.
  absl::Duration rpc_timeout = absl::Seconds(2);
  // A stream without heartbeats for this long is re-established.
  // Default: 3 s.
  absl::Duration stream_silence_timeout = absl::Seconds(3);
  // A failover resumes by time from the last completeness heard minus these
  // (the centrals' --max_clock_offset and --write_deadline).
  absl::Duration max_clock_offset = absl::Milliseconds(500);
  absl::Duration write_deadline = absl::Seconds(5);
  // Threads serving calls that may wait on a central (misses, writes,
  // lists, namespaces). Default: 16.
  int fetch_threads = 16;
  // Workers KV limits, checked before forwarding.
  Limits limits;
};

// A running kv-edge: cache, invalidation stream, client API and metrics.
// Start() returns once it serves; Shutdown() reverses startup.
class EdgeNode {
 public:
  static absl::StatusOr<std::unique_ptr<EdgeNode>> Start(const EdgeOptions& options);
  ~EdgeNode();
  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // 0 when disabled.
  int http_port() const { return http_server_ != nullptr ? http_server_->port() : 0; }
  int workerd_port() const { return workerd_server_ != nullptr ? workerd_server_->port() : 0; }
  void Shutdown();

 private:
  explicit EdgeNode(const EdgeOptions& options) : options_(options) {}
  void GaugeLoop();

  const EdgeOptions options_;
  std::unique_ptr<TokenAuthenticator> auth_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<RequestMetrics> request_metrics_;
  std::unique_ptr<EdgeMetrics> metrics_;
  std::unique_ptr<LruCache> cache_;
  std::unique_ptr<CentralPool> pool_;
  std::unique_ptr<StreamState> stream_state_;
  std::unique_ptr<RecentWrites> recent_writes_;
  std::unique_ptr<Fetcher> fetcher_;
  std::unique_ptr<NamespaceDirectory> directory_;
  std::unique_ptr<Revalidator> revalidator_;
  std::unique_ptr<StreamClient> stream_client_;
  std::unique_ptr<EdgeKvService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<AsyncKvServer> async_server_;
  std::unique_ptr<http::MetricsHandler> metrics_handler_;
  std::unique_ptr<http::HttpServer> metrics_server_;
  std::unique_ptr<EdgeKvApi> http_api_;
  std::unique_ptr<http::RestHandler> rest_handler_;
  std::unique_ptr<http::WorkerdHandler> workerd_handler_;
  std::unique_ptr<http::HttpServer> http_server_;
  std::unique_ptr<http::HttpServer> workerd_server_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  absl::Notification stop_;
  std::thread gauge_thread_;
  bool shut_down_ = false;
};

// Runs an edge until SIGTERM or SIGINT. REQUIRES: both signals blocked in
// every thread.
absl::Status RunEdge(const EdgeOptions& options);

}  // namespace kv::edge

#endif  // KV_EDGE_EDGE_NODE_H_
