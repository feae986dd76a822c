#include "central/central_node.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>
#include <signal.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/error_space.h"
#include "common/listen_policy.h"
#include "common/logging.h"
#include "common/ready_file.h"
#include "common/termination_signals.h"
#include "common/tls_metrics.h"
#include "common/status_macros.h"

namespace kv::central {
namespace {

// 25 MiB values and 100 MB bulk writes fit in one message (docs/protocol.md).
constexpr int kMaxMessageBytes = 128 << 20;

}  // namespace

absl::StatusOr<std::unique_ptr<CentralNode>> CentralNode::Start(
    const CentralOptions& options) {
  if (options.storage.data_dir.empty()) {
    return absl::InvalidArgumentError("--data_dir is required");
  }
  KV_ASSIGN_OR_RETURN(const TlsMaterial tls, LoadNodeTls(options.tls));
  const bool tls_on = options.tls.enabled();
  KV_RETURN_IF_ERROR(CheckListenPolicy(options.grpc_addr, options.dev, options.insecure,
                                       options.tokens_file, tls_on));
  if (!options.http.addr.empty()) {
    KV_RETURN_IF_ERROR(CheckListenPolicy(options.http.addr, options.dev, options.insecure,
                                         options.tokens_file, tls_on));
  }

  if (options.streams.heartbeat_interval <= absl::ZeroDuration() ||
      options.streams.batch_entries == 0 || options.streams.queue_entries == 0 ||
      options.streams.queue_bytes == 0) {
    return absl::InvalidArgumentError(
        "--heartbeat_interval, --stream_batch_entries and --stream_queue_bytes must be positive");
  }

  const PullSenderOptions& sender = options.replication_sender;
  if (sender.batches_in_flight == 0 || sender.relay_linger < absl::ZeroDuration() ||
      sender.follower_linger < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--replication_batches_in_flight is ", sender.batches_in_flight,
        ", --replication_relay_linger ", absl::FormatDuration(sender.relay_linger),
        " and --replication_follower_linger ", absl::FormatDuration(sender.follower_linger),
        "; the first must be at least 1, the others not negative"));
  }
  if (options.grpc_threads.poll_threads < 1 || options.grpc_threads.worker_threads < 1) {
    return absl::InvalidArgumentError(
        "--grpc_poll_threads and --grpc_worker_threads must be at least 1");
  }
  for (const auto& [flag, value] :
       {std::pair{"--group_commit_wait", options.grpc_threads.group_commit_wait},
        std::pair{"--idle_poll", options.grpc_threads.idle_poll}}) {
    if (value < absl::ZeroDuration() || value > absl::Milliseconds(10)) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " must be between 0 and 10ms, got ", absl::FormatDuration(value)));
    }
  }

  auto node = std::unique_ptr<CentralNode>(new CentralNode(options));
  if (options.dev) {
    node->auth_ = TokenAuthenticator::Open(options.default_account);
    LOG(WARNING) << "DEV MODE: no authentication; every request may read and write any "
                    "account; serving on loopback only ("
                 << options.grpc_addr << ")";
  } else {
    KV_ASSIGN_OR_RETURN(node->auth_, TokenAuthenticator::FromFile(options.tokens_file));
  }
  KV_ASSIGN_OR_RETURN(node->storage_, Storage::Open(options.storage, RealClock::Get()));
  node->registry_ = std::make_shared<prometheus::Registry>();
  node->metrics_ = std::make_unique<CentralMetrics>(*node->registry_);
  node->request_metrics_ = std::make_unique<RequestMetrics>(*node->registry_);
  RegisterTlsCertificateMetrics(*node->registry_, tls);
  ReplicatorOptions replication = options.replication;
  replication.node_id = options.storage.node_id;
  replication.max_clock_offset = options.storage.max_clock_offset;
  replication.anti_entropy.tombstone_grace = options.storage.tombstone_grace;
  replication.holds_all_until_path = options.storage.data_dir + "/holds_all_until";
  replication.peer_credentials = NodeChannelCredentials(tls, tls_on);
  KV_ASSIGN_OR_RETURN(node->replicator_,
                      Replicator::Create(replication, *node->storage_, node->metrics_.get()));
  Replicator* replicator = node->replicator_.get();
  node->storage_->SetNamespaceCoordinator(replicator);
  node->storage_->SetWriteGate([replicator] { return replicator->CheckClockForWrites(); });
  node->storage_->SetDurabilityHook(
      [replicator](uint64_t last_sequence) { return replicator->AwaitQuorum(last_sequence); });
  // No thread waits for a quorum: the acks (or the deadline, from the
  // commit) answer the write.
  node->storage_->SetAsyncDurabilityHook(
      [replicator](uint64_t last_sequence, absl::AnyInvocable<void(absl::Status) &&> done) {
        replicator->AwaitQuorumAsync(last_sequence, RealClock::Get().TimeNow(), std::move(done));
      });
  node->storage_->SetReadGate([replicator, window = options.window]() -> absl::Status {
    const absl::Time complete = replicator->CompleteAsOf();
    const absl::Duration age = RealClock::Get().TimeNow() - complete;
    if (age <= window) return absl::OkStatus();
    return WithHttpDetail(
        absl::UnavailableError(absl::StrCat(
            "this central cannot vouch for its data: it has not been in contact with enough "
            "peers ",
            complete == absl::InfinitePast()
                ? std::string("since it started")
                : absl::StrCat("for ", absl::FormatDuration(absl::Trunc(age, absl::Milliseconds(1)))),
            " (window ", absl::FormatDuration(window),
            "), so it may miss acknowledged writes; read from another central")),
        503, kCfBadRequest);
  });
  ReplicationServiceOptions replication_service;
  replication_service.sender = options.replication_sender;
  replication_service.sender.node_id = options.storage.node_id;
  replication_service.sender.heartbeat_interval = options.streams.heartbeat_interval;
  replication_service.sender.holds_all_until = [replicator] {
    return replicator->HoldsAllUntil();
  };
  replication_service.quorum_peers = [replicator] { return replicator->PeersNeededForQuorum(); };
  replication_service.require_node_certificate = tls_on;
  replication_service.relays_left_out = [metrics = node->metrics_.get()](uint32_t peer) {
    return &metrics->ReplicationRelaysLeftOut(peer);
  };
  node->replication_service_ = std::make_unique<ReplicationService>(
      replication_service, *node->storage_, *node->auth_, replicator->tracker());
  node->kv_service_ = std::make_unique<KvService>(*node->storage_, *node->auth_,
                                                  options.limits, RealClock::Get());
  StreamOptions streams = options.streams;
  if (!streams.complete_as_of) {
    streams.complete_as_of = [replicator] { return replicator->CompleteAsOf(); };
  }
  node->stream_hub_ = std::make_unique<StreamHub>(
      node->storage_->change_log(), options.storage.node_id, RealClock::Get(), streams);
  node->stream_hub_->Start();
  node->invalidation_service_ =
      std::make_unique<InvalidationService>(*node->stream_hub_, *node->storage_,
                                            *node->auth_, /*require_node_certificate=*/tls_on);

  // Health is served on the completion queue (AsyncKvServer), not by
  // gRPC's default (callback) service.
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.grpc_addr, NodeServerCredentials(tls, tls_on),
                           &node->grpc_port_);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  // No interceptor and no callback service: kv.v1.Kv (which records the
  // request metrics itself), health and the invalidation streams all run
  // on one completion queue, polled by the kv-cq threads alone
  // (docs/write-path.md). Replication and reflection are sync services;
  // a server with a completion queue gives them non-polling queues, so
  // their threads wait without reading the client connections.
  node->async_kv_server_ = std::make_unique<AsyncKvServer>(
      *node->kv_service_, options.grpc_threads, *node->request_metrics_, node->metrics_.get());
  node->async_kv_server_->RegisterWith(builder);
  builder.RegisterService(node->invalidation_service_->service());
  builder.RegisterService(node->replication_service_.get());
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
  node->async_kv_server_->Start(std::move(cq));
  node->invalidation_service_->Start(node->async_kv_server_->cq());
  node->server_->GetHealthCheckService()->SetServingStatus(true);
  if (!options.http.addr.empty()) {
    node->http_api_ = std::make_unique<CentralKvApi>(*node->kv_service_);
    node->rest_handler_ = std::make_unique<http::RestHandler>(*node->http_api_, options.limits,
                                                            node->request_metrics_.get());
    KV_ASSIGN_OR_RETURN(node->http_server_,
                        http::HttpServer::Start(WithTls(options.http, tls),
                                                *node->rest_handler_));
    LOG(INFO) << "kv-central serving REST API v4 on port " << node->http_server_->port();
  }
  // The metrics listener last: it usually asks the kernel for a port, and
  // bound first it could take the one a restart must listen on again.
  if (!options.metrics_addr.empty()) {
    node->metrics_handler_ = std::make_unique<http::MetricsHandler>(
        std::vector<std::shared_ptr<prometheus::Collectable>>{
            node->registry_,
            std::make_shared<EngineCollector>(*node->storage_, options.storage.data_dir)},
        *node->auth_);
    KV_ASSIGN_OR_RETURN(node->metrics_server_,
                        http::StartMetricsServer(options.metrics_addr, tls,
                                                 *node->metrics_handler_));
    node->metrics_port_ = node->metrics_server_->port();
  }
  node->replicator_->Start();
  node->trim_thread_ = std::thread([n = node.get()] { n->TrimLoop(); });

  LOG(INFO) << "kv-central node " << options.storage.node_id << " serving gRPC on port "
            << node->grpc_port_ << ", metrics on port " << node->metrics_port_ << ", data in "
            << options.storage.data_dir << ", " << node->replicator_->peers().cluster_size()
            << " central(s) in the membership, "
            << (tls_on ? "TLS on every port, mutual TLS between nodes" : "plain text (no TLS)");
  if (!options.ready_file.empty()) {
    std::vector<std::pair<std::string, std::string>> fields = {
        {"grpc_port", absl::StrCat(node->grpc_port_)},
        {"metrics_port", absl::StrCat(node->metrics_port_)}};
    if (node->http_server_ != nullptr) {
      fields.emplace_back("http_port", absl::StrCat(node->http_server_->port()));
    }
    fields.emplace_back("pid", absl::StrCat(getpid()));
    KV_RETURN_IF_ERROR(WriteReadyFile(options.ready_file, fields));
  }
  return node;
}

void CentralNode::TrimLoop() {
  while (!stop_.WaitForNotificationWithTimeout(options_.trim_interval)) {
    absl::StatusOr<uint64_t> trimmed = storage_->change_log().TrimAppliedBefore(
        RealClock::Get().TimeNow() - options_.storage.log_retention);
    if (!trimmed.ok()) LOG(WARNING) << "change-log trim failed: " << trimmed.status();
  }
}

void CentralNode::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  // HTTP first: no new requests, the ones in flight answered.
  if (http_server_ != nullptr) http_server_->Shutdown();
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    // Let calls in flight finish (new ones are refused), then shut down at
    // once: a deadline in Shutdown() would also wait for idle client
    // connections to go away, which they need not do.
    if (!kv_service_->Drain(options_.shutdown_grace)) {
      LOG(WARNING) << "calls still in flight after " << options_.shutdown_grace
                   << "; cancelling them";
    }
    // Streams never end by themselves: finish them so edges fail over
    // (and resume) at once, and give the statuses a moment to go out.
    if (stream_hub_ != nullptr) {
      stream_hub_->FinishAll(absl::UnavailableError(
          "this central is shutting down; resume on another central"));
      if (!stream_hub_->WaitForStreamsDone(options_.shutdown_grace)) {
        LOG(WARNING) << stream_hub_->stream_count() << " invalidation streams still open after "
                     << options_.shutdown_grace << "; cancelling them";
      }
    }
    if (replication_service_ != nullptr) replication_service_->Shutdown();
    if (replicator_ != nullptr) replicator_->Stop();
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
  }
  // Every call answered (writes waiting for their quorum included, every
  // stream ended), then the completion queue shut down.
  if (replicator_ != nullptr) replicator_->Stop();  // answers the quorum waits
  if (invalidation_service_ != nullptr) invalidation_service_->Shutdown();
  if (async_kv_server_ != nullptr) async_kv_server_->Shutdown();
  stop_.Notify();
  if (trim_thread_.joinable()) trim_thread_.join();
  if (stream_hub_ != nullptr) stream_hub_->Stop();
  if (storage_ != nullptr) {
    absl::Status s = storage_->Flush();
    if (!s.ok()) LOG(WARNING) << "flush at shutdown failed: " << s;
  }
  // No scrape may read the storage once it closes.
  if (metrics_server_ != nullptr) metrics_server_->Shutdown();
  metrics_server_.reset();
  metrics_handler_.reset();
  server_.reset();
  http_server_.reset();
  rest_handler_.reset();
  http_api_.reset();
  replication_service_.reset();
  replicator_.reset();
  invalidation_service_.reset();
  stream_hub_.reset();
  async_kv_server_.reset();
  kv_service_.reset();
  storage_.reset();
  LOG(INFO) << "kv-central stopped";
}

CentralNode::~CentralNode() { Shutdown(); }

absl::Status RunCentral(const CentralOptions& options) {
  KV_ASSIGN_OR_RETURN(std::unique_ptr<CentralNode> node, CentralNode::Start(options));
  const int signal_number = WaitForTerminationSignal();
  LOG(INFO) << "signal " << signal_number << ": shutting down";
  node->Shutdown();
  return absl::OkStatus();
}

}  // namespace kv::central
