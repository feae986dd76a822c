#include "central/replication_service.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "central/local_namespace_scope.h"
#include "central/replica_store.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/logging.h"

namespace kv::central {
namespace {

using kv::replication::v1::PullRequest;
using kv::replication::v1::PullResponse;
using kv::storage::v1::ChangeEntry;

// How long an idle Pull loop waits for new entries before checking for
// shutdown and heartbeats.
constexpr absl::Duration kPollInterval = absl::Milliseconds(100);

}  // namespace

ReplicationService::ReplicationService(const ReplicationServiceOptions& options,
                                       Storage& storage, const TokenAuthenticator& auth,
                                       QuorumTracker& tracker)
    : options_(options), storage_(storage), auth_(auth), tracker_(tracker) {}

grpc::Status ReplicationService::AuthorizeNode(const grpc::ServerContext& context) const {
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
  if (peer_id == 0 || peer_id == options_.node_id) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("Pull from node id ", peer_id, " to node ", options_.node_id,
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
  hello.mutable_hello()->set_node_id(options_.node_id);
  hello.mutable_hello()->set_incarnation(log.incarnation());
  hello.mutable_hello()->set_resumed(resumed);
  hello.mutable_hello()->set_start_sequence(next);
  if (!stream->Write(hello)) return grpc::Status(grpc::StatusCode::CANCELLED, "peer went away");
  LOG(INFO) << "replication: node " << peer_id << " pulls from sequence " << next
            << (resumed ? " (resumed)" : " (cannot resume: anti-entropy repairs the rest)");

  // Acks arrive on the same stream; a reader thread takes them.
  std::atomic<bool> reader_done{false};
  std::atomic<uint64_t> sent_through{next - 1};
  // One batch in flight: while the receiver applies it (a WAL sync), new
  // entries gather into the next batch instead of queueing as many small
  // ones, each of which would cost the receiver a sync of its own.
  absl::Mutex ack_mu;
  uint64_t acked_through = next - 1;  // guarded by ack_mu
  std::thread reader([&] {
    PullRequest request;
    while (stream->Read(&request)) {
      if (request.has_ack()) {
        const uint64_t acked = std::min(request.ack().sequence(), sent_through.load());
        tracker_.OnAck(peer_id, acked);
        absl::MutexLock lock(&ack_mu);
        acked_through = std::max(acked_through, acked);
      }
    }
    absl::MutexLock lock(&ack_mu);
    reader_done.store(true);
  });
  // Waits (at most kPollInterval) until the batch in flight is acked.
  auto await_ack = [&]() {
    absl::MutexLock lock(&ack_mu);
    auto ready = [&]() { return reader_done.load() || acked_through >= sent_through.load(); };
    ack_mu.AwaitWithTimeout(absl::Condition(&ready), kPollInterval);
    return acked_through >= sent_through.load();
  };

  grpc::Status result = grpc::Status::OK;
  absl::Time last_heartbeat = absl::InfinitePast();
  // Sends a heartbeat (everything up to next - 1 has been sent) when one is
  // due. False when the peer has gone away.
  auto heartbeat_if_due = [&]() {
    const absl::Time now = RealClock::Get().TimeNow();
    if (now - last_heartbeat < options_.heartbeat_interval) return true;
    PullResponse heartbeat;
    heartbeat.mutable_heartbeat()->set_head_sequence(next - 1);
    heartbeat.mutable_heartbeat()->set_time_us(absl::ToUnixMicros(now));
    if (options_.holds_all_until) {
      const absl::Time holds = options_.holds_all_until();
      if (holds != absl::InfinitePast()) {
        heartbeat.mutable_heartbeat()->set_holds_all_until_ms(absl::ToUnixMillis(holds));
      }
    }
    if (!stream->Write(heartbeat)) return false;
    last_heartbeat = now;
    return true;
  };
  while (true) {
    if (reader_done.load() || context->IsCancelled()) {
      result = grpc::Status(grpc::StatusCode::CANCELLED, "peer went away");
      break;
    }
    if (shutting_down_.load()) {
      result = grpc::Status(grpc::StatusCode::UNAVAILABLE, "central shutting down");
      break;
    }
    if (!await_ack()) {
      // Still in flight: only heartbeats may go out meanwhile.
      if (!heartbeat_if_due()) {
        result = grpc::Status(grpc::StatusCode::CANCELLED, "peer went away");
        break;
      }
      continue;
    }
    absl::StatusOr<std::vector<SequencedChange>> entries =
        log.Read(next, options_.batch_entries, options_.batch_bytes);
    if (!entries.ok()) {
      result = ToGrpcStatus(entries.status());
      break;
    }
    bool write_failed = false;
    if (!entries->empty()) {
      PullResponse batch;
      size_t bytes = 0;
      for (SequencedChange& change : *entries) {
        if (bytes >= options_.batch_bytes) break;
        if (change.entry.version().node_id() == peer_id) {
          // The peer accepted this write itself (durably, before anyone
          // else saw it): only the sequence needs to reach it.
          change.entry.Clear();
          change.entry.set_kind(ChangeEntry::NOOP);
        }
        absl::Status filled = storage_.replica().FillFromStore(change.entry);
        if (!filled.ok()) {
          result = ToGrpcStatus(filled);
          write_failed = true;
          break;
        }
        bytes += change.entry.value().size() + change.entry.key().size();
        kv::replication::v1::ReplicatedEntry* out = batch.mutable_batch()->add_entries();
        out->set_sequence(change.sequence);
        *out->mutable_entry() = std::move(change.entry);
        next = change.sequence + 1;
      }
      if (write_failed) break;
      sent_through.store(next - 1);
      if (!stream->Write(batch)) {
        result = grpc::Status(grpc::StatusCode::CANCELLED, "peer went away");
        break;
      }
    } else {
      log.WaitFor(next, kPollInterval);
    }
    if (!heartbeat_if_due()) {
      result = grpc::Status(grpc::StatusCode::CANCELLED, "peer went away");
      break;
    }
  }
  context->TryCancel();
  reader.join();
  return result;
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
