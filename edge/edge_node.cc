#include "edge/edge_node.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>
#include <signal.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/listen_policy.h"
#include "common/logging.h"
#include "common/ready_file.h"
#include "common/termination_signals.h"
#include "common/tls_metrics.h"
#include "common/status_macros.h"

namespace kv::edge {
namespace {
constexpr int kMaxMessageBytes = 128 << 20;
}  // namespace

absl::StatusOr<std::unique_ptr<EdgeNode>> EdgeNode::Start(const EdgeOptions& options) {
  if (options.central_addrs.empty()) {
    return absl::InvalidArgumentError("--centrals is required (gRPC addresses of centrals)");
  }
  KV_ASSIGN_OR_RETURN(const TlsMaterial tls, LoadNodeTls(options.tls));
  const bool tls_on = options.tls.enabled();
  KV_RETURN_IF_ERROR(CheckListenPolicy(options.grpc_addr, options.dev, options.insecure,
                                       options.tokens_file, tls_on));
  for (const std::string* addr : {&options.http.addr, &options.workerd.addr}) {
    if (!addr->empty()) {
      KV_RETURN_IF_ERROR(CheckListenPolicy(*addr, options.dev, options.insecure,
                                           options.tokens_file, tls_on));
    }
  }
  if (options.window <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--window must be positive");
  }
  auto node = std::unique_ptr<EdgeNode>(new EdgeNode(options));
  if (options.dev) {
    node->auth_ = TokenAuthenticator::Open(options.default_account);
    LOG(WARNING) << "DEV MODE: no authentication; serving on loopback only ("
                 << options.grpc_addr << ")";
  } else {
    KV_ASSIGN_OR_RETURN(node->auth_, TokenAuthenticator::FromFile(options.tokens_file));
  }
  Clock& clock = RealClock::Get();
  node->registry_ = std::make_shared<prometheus::Registry>();
  node->metrics_ = std::make_unique<EdgeMetrics>(*node->registry_, options.window);
  node->request_metrics_ = std::make_unique<RequestMetrics>(*node->registry_);
  RegisterTlsCertificateMetrics(*node->registry_, tls);
  node->metrics_->cache_capacity_bytes.Set(static_cast<double>(options.cache.capacity_bytes));
  // No proof of freshness yet (-1 = none).
  node->metrics_->stream_staleness_seconds.Set(-1);
  node->metrics_->stream_heartbeat_age_seconds.Set(-1);
  node->cache_ = std::make_unique<LruCache>(options.cache);
  node->pool_ = std::make_unique<CentralPool>(options.central_addrs, options.rpc_timeout,
                                              NodeChannelCredentials(tls, tls_on));
  node->stream_state_ = std::make_unique<StreamState>(clock);
  node->recent_writes_ =
      std::make_unique<RecentWrites>(options.window, options.recent_writes, clock);
  node->fetcher_ =
      std::make_unique<Fetcher>(*node->pool_, *node->cache_, clock, node->recent_writes_.get());
  node->directory_ = std::make_unique<NamespaceDirectory>(*node->pool_);
  StreamClientOptions stream_options;
  stream_options.edge_id = options.edge_id;
  if (!options.upstream_token.empty()) {
    stream_options.authorization = "Bearer " + options.upstream_token;
  }
  stream_options.silence_timeout = options.stream_silence_timeout;
  stream_options.max_clock_offset = options.max_clock_offset;
  stream_options.write_deadline = options.write_deadline;
  RevalidatorOptions revalidator_options;
  revalidator_options.authorization = stream_options.authorization;
  node->revalidator_ = std::make_unique<Revalidator>(revalidator_options, *node->pool_,
                                                     *node->cache_, *node->fetcher_,
                                                     *node->stream_state_, *node->metrics_, clock);
  node->stream_client_ = std::make_unique<StreamClient>(
      stream_options, *node->pool_, *node->cache_, *node->fetcher_, *node->revalidator_,
      *node->directory_, *node->stream_state_, *node->metrics_, clock);
  node->service_ = std::make_unique<EdgeKvService>(
      *node->pool_, *node->cache_, *node->fetcher_, *node->recent_writes_, *node->directory_,
      *node->stream_state_,
      *node->auth_, options.limits, options.window, *node->metrics_, clock);

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.grpc_addr, NodeServerCredentials(tls, tls_on),
                           &node->grpc_port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // The async server counts its calls in the request metrics itself and
  // serves health on its queue (async_kv_server.h says why).
  node->async_server_ = std::make_unique<AsyncKvServer>(*node->service_, options.fetch_threads,
                                                        *node->request_metrics_);
  node->async_server_->RegisterWith(builder);
  // Reflection is the one sync service left. Its queue does not poll (a
  // server with a completion queue gives sync methods non-polling queues),
  // so its one thread waits without reading the client connections.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::NUM_CQS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 1);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, 1);
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  node->server_ = builder.BuildAndStart();
  if (node->server_ == nullptr || node->grpc_port_ == 0) {
    cq->Shutdown();
    void* tag;
    bool ok;
    while (cq->Next(&tag, &ok)) {
    }
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.grpc_addr));
  }
  node->async_server_->Start(std::move(cq));
  node->server_->GetHealthCheckService()->SetServingStatus(true);
  node->http_api_ = std::make_unique<EdgeKvApi>(*node->service_);
  if (!options.http.addr.empty()) {
    node->rest_handler_ = std::make_unique<http::RestHandler>(*node->http_api_, options.limits,
                                                            node->request_metrics_.get());
    KV_ASSIGN_OR_RETURN(node->http_server_,
                        http::HttpServer::Start(WithTls(options.http, tls),
                                                *node->rest_handler_));
  }
  if (!options.workerd.addr.empty()) {
    node->workerd_handler_ =
        std::make_unique<http::WorkerdHandler>(*node->http_api_, options.limits,
                                               node->request_metrics_.get());
    KV_ASSIGN_OR_RETURN(node->workerd_server_,
                        http::HttpServer::Start(WithTls(options.workerd, tls),
                                                *node->workerd_handler_));
  }
  // The metrics listener last: it usually asks the kernel for a port, and
  // bound first it could take the one a restart must listen on again.
  node->metrics_handler_ = std::make_unique<http::MetricsHandler>(
      std::vector<std::shared_ptr<prometheus::Collectable>>{node->registry_}, *node->auth_);
  KV_ASSIGN_OR_RETURN(node->metrics_server_,
                      http::StartMetricsServer(options.metrics_addr, tls,
                                               *node->metrics_handler_));
  node->metrics_port_ = node->metrics_server_->port();

  node->revalidator_->Start();
  node->stream_client_->Start(node->async_server_->cq());
  node->gauge_thread_ = std::thread([n = node.get()] { n->GaugeLoop(); });

  LOG(INFO) << "kv-edge " << options.edge_id << " serving gRPC on port " << node->grpc_port_
            << ", metrics on port " << node->metrics_port_ << ", window " << options.window
            << ", cache " << options.cache.capacity_bytes << " bytes, REST on port "
            << node->http_port() << ", workerd protocol on port " << node->workerd_port()
            << " (0 = off), "
            << (tls_on ? "TLS on every port, mutual TLS to the centrals" : "plain text (no TLS)");
  if (!options.ready_file.empty()) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"grpc_port", absl::StrCat(node->grpc_port_)},
        {"metrics_port", absl::StrCat(node->metrics_port_)}};
    if (node->http_port() != 0) fields.emplace_back("http_port", absl::StrCat(node->http_port()));
    if (node->workerd_port() != 0) {
      fields.emplace_back("workerd_port", absl::StrCat(node->workerd_port()));
    }
    fields.emplace_back("pid", absl::StrCat(getpid()));
    KV_RETURN_IF_ERROR(WriteReadyFile(options.ready_file, fields));
  }
  return node;
}

void EdgeNode::GaugeLoop() {
  uint64_t evictions_seen = 0;
  do {
    metrics_->cache_bytes.Set(static_cast<double>(cache_->bytes()));
    metrics_->cache_entries.Set(static_cast<double>(cache_->entries()));
    const uint64_t evictions = cache_->evictions();
    metrics_->cache_evictions.Increment(static_cast<double>(evictions - evictions_seen));
    evictions_seen = evictions;
  } while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(250)));
}

void EdgeNode::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // HTTP first: no new requests, the ones in flight answered.
  if (http_server_ != nullptr) http_server_->Shutdown();
  if (workerd_server_ != nullptr) workerd_server_->Shutdown();
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->Shutdown();  // NOT_SERVING; Watch streams end
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  // The stream's events come through the server's queue: stop it first.
  if (stream_client_ != nullptr) stream_client_->Stop();
  if (async_server_ != nullptr) async_server_->Shutdown();
  if (server_ != nullptr) server_->Wait();
  stop_.Notify();
  if (revalidator_ != nullptr) revalidator_->Stop();
  if (gauge_thread_.joinable()) gauge_thread_.join();
  server_.reset();
  if (metrics_server_ != nullptr) metrics_server_->Shutdown();
  metrics_server_.reset();
  metrics_handler_.reset();
  LOG(INFO) << "kv-edge stopped";
}

EdgeNode::~EdgeNode() { Shutdown(); }

absl::Status RunEdge(const EdgeOptions& options) {
  KV_ASSIGN_OR_RETURN(std::unique_ptr<EdgeNode> node, EdgeNode::Start(options));
  const int signal_number = WaitForTerminationSignal();
  LOG(INFO) << "signal " << signal_number << ": shutting down";
  node->Shutdown();
  return absl::OkStatus();
}

}  // namespace kv::edge
