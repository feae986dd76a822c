#ifndef KV_CENTRAL_REPLICATOR_H_
#define KV_CENTRAL_REPLICATOR_H_

#include <grpcpp/security/credentials.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "central/anti_entropy.h"
#include "central/central_metrics.h"
#include "central/peer_puller.h"
#include "central/peer_set.h"
#include "central/quorum_tracker.h"
#include "central/storage.h"

namespace kv::central {

struct ReplicatorOptions {
  uint32_t node_id = 1;
  // Membership: `--peers` or `--peers_file` (see PeerSet); neither = alone.
  std::string peers;
  std::string peers_file;
  // Centrals that must hold a write durably before it is acknowledged,
  // this one included. 0 = a majority of the membership.
  uint32_t write_quorum = 0;
  // Longest a write waits for its quorum. Default: 5 s.
  absl::Duration write_deadline = absl::Seconds(5);
  // Node credentials sent to peers (an edge-scope token); empty in dev mode.
  std::string peer_token;
  // How peers are dialled (mutual TLS, common/tls.h). Default: plain text.
  std::shared_ptr<grpc::ChannelCredentials> peer_credentials;
  absl::Duration max_clock_offset = absl::Milliseconds(500);
  // A Pull stream silent this long is re-opened. Default: 3 s.
  absl::Duration silence_timeout = absl::Seconds(3);
  AntiEntropyOptions anti_entropy;
  // Where HoldsAllUntil is kept across restarts (holds_all_until_file.h):
  // read at Create (until this central's streams are complete again, what
  // it says is what anti-entropy catches up from), rewritten at most every
  // second as it advances. Empty: not kept.
  std::string holds_all_until_path;
};

// Replication between centrals (DESIGN §4.2), wired together: the
// membership, one PeerPuller per peer, anti-entropy, the quorum wait every
// local write goes through, this central's completeness, and the routing of
// namespace changes to one coordinator.
//
// Guarantees:
//  - AwaitQuorum(Async) answers OK only once write_quorum − 1 peers have
//    acked the sequence durably; otherwise, at the deadline (from the local
//    commit) or at Stop, UNAVAILABLE saying how many centrals hold the
//    write (it stays and is repaired later); every wait is answered;
//  - CompleteAsOf() is a time up to which this central holds every write
//    acknowledged anywhere: the (N−W)-th most recent completeness among its
//    peers' contiguous streams (now for a cluster of one, or W = N).
// Thread-safe.
class Replicator final : public NamespaceCoordinator {
 public:
  // INVALID_ARGUMENT for a bad membership or quorum. `metrics` may be null.
  static absl::StatusOr<std::unique_ptr<Replicator>> Create(const ReplicatorOptions& options,
                                                           Storage& storage,
                                                           CentralMetrics* metrics);
  ~Replicator();

  // Starts pullers, anti-entropy and the membership/metrics loop.
  void Start();
  // Also answers every quorum wait still open (UNAVAILABLE), and later
  // ones at once.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // The durability hook of every local write: calls `done` (on this
  // thread, the acking stream's or the quorum timer's; it must not block)
  // with OK once write_quorum − 1 peers have acked `last_sequence`,
  // otherwise UNAVAILABLE at the deadline or at Stop. No thread waits.
  // `committed_at`: when the write was committed locally; the write
  // deadline runs from there (DESIGN §4.2), so a wait registered late
  // never acknowledges a write after its deadline. Default: now.
  void AwaitQuorumAsync(uint64_t last_sequence, absl::Time committed_at,
                        absl::AnyInvocable<void(absl::Status) &&> done);
  // Blocking form of AwaitQuorumAsync.
  absl::Status AwaitQuorum(uint64_t last_sequence,
                           absl::Time committed_at = absl::InfinitePast());
  // Peers that must ack a write for its quorum (W − 1; 0 while the
  // membership is unknown).
  size_t PeersNeededForQuorum() const;
  absl::Time CompleteAsOf() const ABSL_LOCKS_EXCLUDED(mu_);
  // A time before which this central holds every write any central applied:
  // the oldest completeness of ALL its peers' streams (now when alone;
  // InfinitePast when a stream has none).
  absl::Time HoldsAllUntil() const ABSL_LOCKS_EXCLUDED(mu_);
  // Tombstones with versions before this may be purged (past the grace):
  // every central holds them (DESIGN §4.2). The minimum of HoldsAllUntil
  // here and as each peer last advertised it, less the write deadline and
  // clock offset (commits in flight). InfiniteFuture when alone,
  // InfinitePast when unknown.
  absl::Time PurgeHorizon() const ABSL_LOCKS_EXCLUDED(mu_);
  // UNAVAILABLE when this central's clock runs ahead of every connected
  // peer's by more than the maximum clock offset (its versions would win
  // every conflict for that long): client writes are refused here, not
  // replicated ones (DESIGN §4.2).
  absl::Status CheckClockForWrites() const ABSL_LOCKS_EXCLUDED(mu_);

  // Namespace changes go to the lowest-id central among this one and the
  // peers it is connected to, provided they are a majority (UNAVAILABLE
  // otherwise); the result is applied here at once, so the caller can use a
  // namespace it just created on this central.
  std::optional<absl::StatusOr<NamespaceInfo>> Forward(const NamespaceOp& op) override
      ABSL_LOCKS_EXCLUDED(mu_);

  // What this central holds, for peer `for_peer` (PullHoldings): every
  // entry of its own change log, and what each other peer's stream has
  // applied on its current connection.
  kv::replication::v1::PullHoldings Holdings(uint32_t for_peer) const ABSL_LOCKS_EXCLUDED(mu_);

  QuorumTracker& tracker() { return tracker_; }
  PeerSet& peers() { return *peers_; }
  AntiEntropy& anti_entropy() { return *anti_entropy_; }

 private:
  Replicator(const ReplicatorOptions& options, Storage& storage, CentralMetrics* metrics)
      : options_(options), storage_(storage), metrics_(metrics) {}
  // Membership changes start pullers; metrics are refreshed.
  void MaintenanceLoop();
  // Rewrites options_.holds_all_until_path when HoldsAllUntil has advanced
  // and a second has passed since the last write.
  void KeepHoldsAllUntil();
  void EnsurePullers() ABSL_LOCKS_EXCLUDED(mu_);
  void UpdateMetrics() ABSL_LOCKS_EXCLUDED(mu_);
  // A stream from `peer_id` applied: the others tell their peers.
  void OnApplied(uint32_t peer_id) ABSL_LOCKS_EXCLUDED(mu_);
  size_t WriteQuorum(size_t cluster_size) const;

  const ReplicatorOptions options_;
  Storage& storage_;
  CentralMetrics* const metrics_;
  std::unique_ptr<PeerSet> peers_;
  QuorumTracker tracker_;
  std::unique_ptr<AntiEntropy> anti_entropy_;

  mutable absl::Mutex mu_;
  std::map<uint32_t, std::unique_ptr<PeerPuller>> pullers_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread maintenance_;
  uint64_t future_versions_seen_ = 0;
  // MaintenanceLoop only: what options_.holds_all_until_path holds, and
  // when it was written.
  absl::Time holds_all_until_kept_ = absl::InfinitePast();
  // What options_.holds_all_until_path said at Create (const after it).
  absl::Time held_at_start_ = absl::InfinitePast();
  absl::Time holds_all_until_written_at_ = absl::InfinitePast();
  bool holds_all_until_failed_ = false;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_REPLICATOR_H_
