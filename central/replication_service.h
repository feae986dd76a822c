#ifndef KV_CENTRAL_REPLICATION_SERVICE_H_
#define KV_CENTRAL_REPLICATION_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "central/pull_sender.h"
#include "central/quorum_tracker.h"
#include "central/storage.h"
#include "common/auth.h"
#include "proto/replication.grpc.pb.h"

namespace prometheus {
class Counter;
}

namespace kv::central {

struct ReplicationServiceOptions {
  // Every Pull stream's sender: this central's node id (sender.node_id),
  // heartbeat interval, batch bounds, window, lingers, holds_all_until.
  // peer_id and quorum_peer are set per stream.
  PullSenderOptions sender;
  // How many peers must ack a write for its quorum (W − 1; the Replicator
  // knows the membership). The peers with an open Pull stream that come
  // first in ring order after this node (node id minus ours, modulo 2^32)
  // are the quorum peers: this central's writes go to them at once and to
  // the others after `sender.follower_linger`. Unset: every peer gets them
  // at once.
  std::function<size_t()> quorum_peers;
  // This node serves TLS: callers must present a node certificate (mutual
  // TLS) besides their token. Default: false.
  bool require_node_certificate = false;
  // The counter of entries left out of the stream to `peer` (optional).
  std::function<prometheus::Counter*(uint32_t peer)> relays_left_out;
};

// Whether `peer` is among the first `needed` of the `open` peers (those
// with a Pull stream open here, `peer` included) in ring order after
// `self`: by (id − self) modulo 2^32, so with centrals 1, 2, 3 and one peer
// needed, 1 prefers 2, 2 prefers 3 and 3 prefers 1 (the follower streams'
// load spreads evenly).
bool IsQuorumPeerByRing(uint32_t self, uint32_t peer, const std::vector<uint32_t>& open,
                        size_t needed);

// The source side of replication (proto/replication.proto): serves peers'
// Pull streams from the change log, with every PUT's value as stored now,
// counts their acks in the QuorumTracker, and answers anti-entropy queries.
//
// Guarantees: a Pull stream carries every change-log entry after its start
// point, in sequence order, without gaps (an entry whose log position is
// trimmed ends the stream; the receiver reconnects and repairs by
// anti-entropy); a heartbeat's head_sequence is the last entry already sent.
// Callers must hold an edge-scope token (node credentials) or the node be in
// dev mode. Thread-safe; each Pull occupies one server thread (PullSender)
// and one ack reader thread.
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
  // Whether `peer` is one of the quorum peers now (see quorum_peers).
  bool IsQuorumPeer(uint32_t peer) ABSL_LOCKS_EXCLUDED(streams_mu_);

  const ReplicationServiceOptions options_;
  Storage& storage_;
  const TokenAuthenticator& auth_;
  QuorumTracker& tracker_;
  std::atomic<bool> shutting_down_{false};
  absl::Mutex streams_mu_;
  // Open Pull streams per peer (a reconnect may overlap the old stream).
  std::map<uint32_t, int> open_streams_ ABSL_GUARDED_BY(streams_mu_);
};

}  // namespace kv::central

#endif  // KV_CENTRAL_REPLICATION_SERVICE_H_
