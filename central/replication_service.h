#ifndef KV_CENTRAL_REPLICATION_SERVICE_H_
#define KV_CENTRAL_REPLICATION_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>

#include "absl/time/time.h"
#include "central/quorum_tracker.h"
#include "central/storage.h"
#include "common/auth.h"
#include "proto/replication.grpc.pb.h"

namespace kv::central {

struct ReplicationServiceOptions {
  // This central's node id.
  uint32_t node_id = 1;
  // Heartbeats go out at least this often on every Pull stream, even under
  // load (the receiver's completeness advances with them). Default: 1 s.
  absl::Duration heartbeat_interval = absl::Seconds(1);
  // Bounds of one batch. Defaults: 1,000 entries, 8 MiB of values (a single
  // larger value goes alone).
  size_t batch_entries = 1000;
  size_t batch_bytes = size_t{8} << 20;
  // What heartbeats advertise as holds_all_until (Replicator::HoldsAllUntil);
  // unset or InfinitePast = nothing.
  std::function<absl::Time()> holds_all_until;
};

// The source side of replication (proto/replication.proto): serves peers'
// Pull streams from the change log, with every PUT's value as stored now,
// counts their acks in the QuorumTracker, and answers anti-entropy queries.
//
// Guarantees: a Pull stream carries every change-log entry after its start
// point, in sequence order, without gaps (an entry whose log position is
// trimmed ends the stream; the receiver reconnects and repairs by
// anti-entropy); a heartbeat's head_sequence is the last entry already sent.
// Callers must hold an edge-scope token (node credentials) or the node be in
// dev mode. Thread-safe; each Pull occupies one server thread and one ack
// reader thread.
class ReplicationService final : public kv::replication::v1::Replication::Service {
 public:
  // All references must outlive the service.
  ReplicationService(const ReplicationServiceOptions& options, Storage& storage,
                     const TokenAuthenticator& auth, QuorumTracker& tracker);

  grpc::Status Pull(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<kv::replication::v1::PullResponse,
                                             kv::replication::v1::PullRequest>* stream) override;
  grpc::Status Digests(grpc::ServerContext* context,
                       const kv::replication::v1::DigestRequest* request,
                       kv::replication::v1::DigestResponse* response) override;
  grpc::Status BucketKeys(grpc::ServerContext* context,
                          const kv::replication::v1::BucketKeysRequest* request,
                          kv::replication::v1::BucketKeysResponse* response) override;
  grpc::Status Fetch(grpc::ServerContext* context,
                     const kv::replication::v1::FetchRequest* request,
                     kv::replication::v1::FetchResponse* response) override;
  // Makes a forwarded namespace change here (this central coordinates).
  grpc::Status NamespaceOp(grpc::ServerContext* context,
                           const kv::replication::v1::NamespaceOpRequest* request,
                           kv::replication::v1::NamespaceOpResponse* response) override;

  // Ends every Pull stream (UNAVAILABLE) within about 100 ms and refuses new
  // ones.
  void Shutdown() { shutting_down_.store(true); }

 private:
  grpc::Status AuthorizeNode(const grpc::ServerContext& context) const;

  const ReplicationServiceOptions options_;
  Storage& storage_;
  const TokenAuthenticator& auth_;
  QuorumTracker& tracker_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace kv::central

#endif  // KV_CENTRAL_REPLICATION_SERVICE_H_
