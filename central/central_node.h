#ifndef KV_CENTRAL_CENTRAL_NODE_H_
#define KV_CENTRAL_CENTRAL_NODE_H_

#include <grpcpp/server.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "central/async_kv_server.h"
#include "central/central_metrics.h"
#include "central/engine_collector.h"
#include "central/central_kv_api.h"
#include "central/invalidation_service.h"
#include "central/kv_service.h"
#include "central/replication_service.h"
#include "central/replicator.h"
#include "central/storage.h"
#include "central/stream_hub.h"
#include "common/auth.h"
#include "common/request_metrics.h"
#include "common/http/http_server.h"
#include "common/http/metrics_handler.h"
#include "common/http/rest_handler.h"
#include "common/limits.h"
#include "common/tls.h"

namespace kv::central {

struct CentralOptions {
  // Storage: data dir, node id, blob and log settings. data_dir is required.
  StorageOptions storage;
  // gRPC listen address; port 0 picks a free port. Default: 127.0.0.1:7100.
  std::string grpc_addr = "127.0.0.1:7100";
  // REST API v4 (Cloudflare's KV endpoints): http.addr is the listen
  // address (port 0 picks a free port); empty disables it. Default: off.
  http::HttpServerOptions http;
  // When set, `grpc_port=N`, `http_port=N` (when serving HTTP) and `pid=N`
  // are written here once serving.
  std::string ready_file;
  // Tokens file (`<token> <account> <read|write>` lines). Required unless dev.
  std::string tokens_file;
  // Open mode: no auth; only loopback addresses. Default: false.
  bool dev = false;
  // Account used in dev mode when a request names none. Default: devaccount.
  std::string default_account = "devaccount";
  // Allows a non-loopback address without TLS. Default: false.
  bool insecure = false;
  // TLS on the gRPC port and mutual TLS to and from the other nodes
  // (common/tls.h): all three files or none. Default: none (plain text).
  TlsFiles tls;
  // Workers KV limits enforced on every request.
  Limits limits;
  // How often the change log is trimmed to storage.log_retention.
  // Default: 1 min.
  absl::Duration trim_interval = absl::Minutes(1);
  // Longest a clean shutdown waits for calls in flight. Default: 5 s.
  absl::Duration shutdown_grace = absl::Seconds(5);
  // Invalidation streams to edges: heartbeats, batches, per-stream bounds.
  StreamOptions streams;
  // Replication between centrals: membership, quorum, anti-entropy. The
  // node id is storage.node_id.
  ReplicatorOptions replication;
  // The Pull streams this central serves to its peers: batches in flight,
  // relay and follower lingers (--replication_*). Node id, heartbeat
  // interval and holds_all_until are filled in at start.
  PullSenderOptions replication_sender;
  // A central whose completeness (complete_as_of) is older than this refuses
  // record reads with UNAVAILABLE (HTTP 503): its data may miss writes
  // acknowledged elsewhere. The edges' window. Default: 60 s.
  absl::Duration window = absl::Seconds(60);
  // Prometheus /metrics listen address; empty = none; port 0 = any.
  std::string metrics_addr;
  // Threads of the client API's completion queue and its worker pool.
  AsyncKvServerOptions grpc_threads;
};

// A running kv-central: storage, the gRPC server (client API, health,
// reflection) and its background loops. Start() returns once it serves;
// Shutdown() reverses startup. Not copyable; Shutdown() is idempotent.
class CentralNode {
 public:
  // INVALID_ARGUMENT for bad options (e.g. dev mode on a public address),
  // otherwise the error of the part that failed to start.
  static absl::StatusOr<std::unique_ptr<CentralNode>> Start(const CentralOptions& options);
  ~CentralNode();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  Replicator& replicator() { return *replicator_; }
  // 0 when HTTP is disabled.
  int http_port() const { return http_server_ != nullptr ? http_server_->port() : 0; }
  // The invalidation streams' hub (tests, later metrics).
  StreamHub& stream_hub() { return *stream_hub_; }
  // Health NOT_SERVING, client calls drained, invalidation streams finished
  // (UNAVAILABLE), server shut down, loops stopped, storage closed.
  void Shutdown();

 private:
  explicit CentralNode(const CentralOptions& options) : options_(options) {}
  void TrimLoop();

  const CentralOptions options_;
  std::unique_ptr<TokenAuthenticator> auth_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<KvService> kv_service_;
  std::unique_ptr<AsyncKvServer> async_kv_server_;
  std::unique_ptr<StreamHub> stream_hub_;
  std::unique_ptr<InvalidationService> invalidation_service_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<CentralMetrics> metrics_;
  std::unique_ptr<RequestMetrics> request_metrics_;
  std::unique_ptr<http::MetricsHandler> metrics_handler_;
  std::unique_ptr<http::HttpServer> metrics_server_;
  int metrics_port_ = 0;
  std::unique_ptr<Replicator> replicator_;
  std::unique_ptr<ReplicationService> replication_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CentralKvApi> http_api_;
  std::unique_ptr<http::RestHandler> rest_handler_;
  std::unique_ptr<http::HttpServer> http_server_;
  int grpc_port_ = 0;
  absl::Notification stop_;
  std::thread trim_thread_;
  bool shut_down_ = false;
};

// Runs a central until SIGTERM or SIGINT, then shuts it down cleanly.
// REQUIRES: SIGTERM and SIGINT are blocked in every thread (block them in
// main before anything starts threads).
absl::Status RunCentral(const CentralOptions& options);

}  // namespace kv::central

#endif  // KV_CENTRAL_CENTRAL_NODE_H_
