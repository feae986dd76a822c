#include "central/replication_service.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "central/local_namespace_scope.h"
#include "central/pull_sender.h"
#include "central/replica_store.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/thread_pool.h"
#include "common/tls.h"

namespace kv::central {
namespace {

using kv::replication::v1::PullRequest;
using kv::replication::v1::PullResponse;
using kv::storage::v1::ChangeEntry;

}  // namespace

ReplicationService::ReplicationService(const ReplicationServiceOptions& options,
                                       Storage& storage, const TokenAuthenticator& auth,
                                       QuorumTracker& tracker)
    : options_(options), storage_(storage), auth_(auth), tracker_(tracker) {}

grpc::Status ReplicationService::AuthorizeNode(const grpc::ServerContext& context) const {
  if (absl::Status s = CheckNodeCertificate(options_.require_node_certificate,
                                            HasVerifiedClientCertificate(context));
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  std::string header;
  auto it = context.client_metadata().find("authorization");
  if (it != context.client_metadata().end()) header.assign(it->second.data(), it->second.size());
  absl::StatusOr<Principal> principal = auth_.Authenticate(header);
  absl::Status status = principal.ok() ? auth_.AuthorizeEdge(*principal) : principal.status();
  return ToGrpcStatus(status);
}

grpc::Status ReplicationService::Pull(
    grpc::ServerContext* context, grpc::ServerReaderWriter<PullResponse, PullRequest>* stream) {
  if (grpc::Status s = AuthorizeNode(*context); !s.ok()) return s;
  if (shutting_down_.load()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  PullRequest first;
  if (!stream->Read(&first) || !first.has_start()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a Pull starts with PullStart");
  }
  const uint32_t peer_id = first.start().node_id();
  if (peer_id == 0 || peer_id == options_.sender.node_id) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("Pull from node id ", peer_id, " to node ", options_.sender.node_id,
                                     ": ids must be distinct and non-zero"));
  }
  ChangeLog& log = storage_.change_log();
  const uint64_t after = first.start().after_sequence();
  uint64_t next;
  bool resumed;
  if (first.start().incarnation() == log.incarnation() && after + 1 >= log.FirstSequence() &&
      after <= log.LastSequence()) {
    next = after + 1;
    resumed = true;
  } else if (log.FirstSequence() <= 1) {
    next = 1;  // the whole log is still here: nothing is missed
    resumed = true;
  } else {
    next = log.LastSequence() + 1;
    resumed = false;
  }
  PullResponse hello;
  hello.mutable_hello()->set_node_id(options_.sender.node_id);
  hello.mutable_hello()->set_incarnation(log.incarnation());
  hello.mutable_hello()->set_resumed(resumed);
  hello.mutable_hello()->set_start_sequence(next);
  if (!stream->Write(hello)) return grpc::Status(grpc::StatusCode::CANCELLED, "peer went away");
  LOG(INFO) << "replication: node " << peer_id << " pulls from sequence " << next
            << (resumed ? " (resumed)" : " (cannot resume: anti-entropy repairs the rest)");

  // This thread sends (PullSender); a reader thread takes the acks.
  PullSenderOptions sender_options = options_.sender;
  sender_options.peer_id = peer_id;
  sender_options.quorum_peer = [this, peer_id] { return IsQuorumPeer(peer_id); };
  sender_options.origins = &storage_.replica().relay_origins();
  if (options_.relays_left_out) sender_options.relays_left_out = options_.relays_left_out(peer_id);
  {
    absl::MutexLock lock(&streams_mu_);
    ++open_streams_[peer_id];
  }
  PullSender sender(sender_options, log, storage_.replica(), tracker_, next);
  std::thread reader([&] {
    NameThisThread("kv-pull-acks");
    PullRequest request;
    while (stream->Read(&request)) {
      if (request.has_ack()) {
        sender.OnAck(request.ack().sequence());
      } else if (request.has_holdings()) {
        sender.OnHoldings(request.holdings());
      }
    }
    sender.OnReaderDone();
  });
  struct StreamSink final : PullSender::Sink {
    explicit StreamSink(grpc::ServerReaderWriter<PullResponse, PullRequest>* s) : stream(s) {}
    bool Write(const PullResponse& response) override { return stream->Write(response); }
    grpc::ServerReaderWriter<PullResponse, PullRequest>* stream;
  } sink(stream);
  absl::Status result = sender.Run(sink, [this] { return shutting_down_.load(); });
  context->TryCancel();
  reader.join();
  {
    absl::MutexLock lock(&streams_mu_);
    if (--open_streams_[peer_id] == 0) open_streams_.erase(peer_id);
  }
  return ToGrpcStatus(result);
}

bool IsQuorumPeerByRing(uint32_t self, uint32_t peer, const std::vector<uint32_t>& open,
                        size_t needed) {
  auto distance = [self](uint32_t id) { return id - self; };
  size_t closer = 0;  // open peers before `peer` in ring order
  for (uint32_t id : open) {
    if (id != peer && distance(id) < distance(peer)) ++closer;
  }
  return closer < needed;
}

bool ReplicationService::IsQuorumPeer(uint32_t peer) {
  if (!options_.quorum_peers) return true;
  const size_t needed = options_.quorum_peers();
  std::vector<uint32_t> open;
  {
    absl::MutexLock lock(&streams_mu_);
    open.reserve(open_streams_.size());
    for (const auto& [id, streams] : open_streams_) open.push_back(id);
  }
  return IsQuorumPeerByRing(options_.sender.node_id, peer, open, needed);
}

grpc::Status ReplicationService::Digests(grpc::ServerContext* context,
                                         const kv::replication::v1::DigestRequest* request,
                                         kv::replication::v1::DigestResponse* response) {
  if (grpc::Status s = AuthorizeNode(*context); !s.ok()) return s;
  absl::StatusOr<kv::replication::v1::DigestResponse> digests =
      storage_.replica().Digests(*request);
  if (!digests.ok()) return ToGrpcStatus(digests.status());
  *response = std::move(*digests);
  return grpc::Status::OK;
}

grpc::Status ReplicationService::BucketKeys(
    grpc::ServerContext* context, const kv::replication::v1::BucketKeysRequest* request,
    kv::replication::v1::BucketKeysResponse* response) {
  if (grpc::Status s = AuthorizeNode(*context); !s.ok()) return s;
  absl::StatusOr<kv::replication::v1::BucketKeysResponse> keys =
      storage_.replica().BucketKeys(*request);
  if (!keys.ok()) return ToGrpcStatus(keys.status());
  *response = std::move(*keys);
  return grpc::Status::OK;
}

grpc::Status ReplicationService::Fetch(grpc::ServerContext* context,
                                       const kv::replication::v1::FetchRequest* request,
                                       kv::replication::v1::FetchResponse* response) {
  if (grpc::Status s = AuthorizeNode(*context); !s.ok()) return s;
  if (request->keys_size() > 10000)
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "at most 10,000 keys per Fetch");
  std::vector<std::string> keys(request->keys().begin(), request->keys().end());
  absl::StatusOr<std::vector<ChangeEntry>> entries =
      storage_.replica().Fetch(request->namespace_id(), keys);
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  for (ChangeEntry& entry : *entries) *response->add_entries() = std::move(entry);
  return grpc::Status::OK;
}

grpc::Status ReplicationService::NamespaceOp(
    grpc::ServerContext* context, const kv::replication::v1::NamespaceOpRequest* request,
    kv::replication::v1::NamespaceOpResponse* response) {
  if (grpc::Status s = AuthorizeNode(*context); !s.ok()) return s;
  using Request = kv::replication::v1::NamespaceOpRequest;
  LocalNamespaceScope local;
  absl::StatusOr<NamespaceInfo> info;
  switch (request->op()) {
    case Request::CREATE:
      info = storage_.CreateNamespace(request->account_id(), request->title());
      break;
    case Request::RENAME:
      info = storage_.RenameNamespace(request->account_id(), request->namespace_id(),
                                      request->title());
      break;
    case Request::DELETE: {
      absl::Status deleted = storage_.DeleteNamespace(request->account_id(), request->namespace_id());
      if (!deleted.ok()) return ToGrpcStatus(deleted);
      response->mutable_row()->set_id(request->namespace_id());
      response->mutable_row()->set_account_id(request->account_id());
      response->mutable_row()->set_deleted(true);
      return grpc::Status::OK;
    }
    default:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown namespace op");
  }
  if (!info.ok()) return ToGrpcStatus(info.status());
  kv::storage::v1::StoredNamespace& row = *response->mutable_row();
  row.set_id(info->id);
  row.set_account_id(info->account_id);
  row.set_title(info->title);
  info->version.ToProto(row.mutable_version());
  return grpc::Status::OK;
}

}  // namespace kv::central
