#ifndef KV_CENTRAL_PEER_PULLER_H_
#define KV_CENTRAL_PEER_PULLER_H_

#include <grpcpp/security/credentials.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "central/peer_set.h"
#include "central/pull_inbox.h"
#include "central/replica_store.h"

namespace grpc {
class ClientContext;
}
namespace prometheus {
class Counter;
}

namespace kv::central {

struct PeerPullerOptions {
  uint32_t self_id = 1;
  uint32_t peer_id = 2;
  // Sent as "authorization: Bearer <token>"; empty = none (dev mode).
  std::string token;
  // How the peer is dialled (mutual TLS, common/tls.h). Default: plain text.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // A stream silent for this long (no batch, no heartbeat) is cut and
  // re-opened. Default: 3 s (3 heartbeats).
  absl::Duration silence_timeout = absl::Seconds(3);
  // Peers' clocks may be this far off; completeness is judged that much
  // earlier than a peer's heartbeat time. Default: 500 ms.
  absl::Duration max_clock_offset = absl::Milliseconds(500);
  // Counted when set (kv_replication_{applies,entries,apply_seconds}_total);
  // they must outlive the puller.
  prometheus::Counter* applies = nullptr;
  prometheus::Counter* entries = nullptr;
  prometheus::Counter* apply_seconds = nullptr;
  // What this central holds, sent to the peer as PullHoldings so it can
  // leave out what it would relay here (proto/replication.proto); called
  // with this puller's peer id, on the applier thread, without locks held.
  // Unset: none is sent.
  std::function<kv::replication::v1::PullHoldings(uint32_t peer_id)> holdings;
  // Called on the applier thread after each apply that logged entries
  // (the holdings grew), without locks held.
  std::function<void(uint32_t peer_id)> on_applied;
};

// The receiver side of replication from one peer (proto/replication.proto):
// keeps a Pull stream open (reconnecting with backoff, the address re-read
// from the PeerSet each time), applies what arrives durably through the
// ReplicaStore together with the new position, then acks it. One thread
// reads the stream while another applies: the batches that arrive during an
// apply (the source keeps several in flight) are applied together, with one
// WAL sync.
//
// Guarantees: entries are applied in the peer's sequence order without
// gaps (a gap or an apply error cuts the stream and it resumes from the last
// durable position); an ack is sent only once the batch is durable; when the
// peer cannot resume from our position, `on_not_resumed` is called so
// anti-entropy repairs what the stream skipped.
// Thread-safe accessors; one thread, plus a watchdog and an applier per
// open stream.
class PeerPuller {
 public:
  struct State {
    bool connected = false;
    // The peer's last sequence applied here.
    uint64_t applied_sequence = 0;
    // Every write the peer had applied before this time (this node's clock,
    // conservatively) is applied here; InfinitePast when unknown.
    absl::Time complete_until = absl::InfinitePast();
    // The peer's clock minus ours, from its last heartbeat (≈ half the
    // round trip of error).
    absl::Duration clock_offset;
    bool clock_known = false;  // a heartbeat has arrived on this stream
    // The peer could not resume our stream: what lies before the stream's
    // start is only repaired by an anti-entropy round begun after this time;
    // until then the stream does not count for completeness.
    absl::Time repair_needed_since = absl::InfinitePast();
    bool repair_needed = false;
    // The peer's last holds_all_until (this node's clock, conservatively);
    // InfinitePast when it could not say.
    absl::Time peer_holds_all_until = absl::InfinitePast();
  };

  PeerPuller(const PeerPullerOptions& options, const PeerSet& peers, ReplicaStore& replica,
             std::function<void(uint32_t peer_id)> on_not_resumed);
  ~PeerPuller();

  void Start();
  // Cuts the stream and joins the thread.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  State state() const ABSL_LOCKS_EXCLUDED(mu_);
  // An anti-entropy round with this peer that began at `started` succeeded.
  void OnRepaired(absl::Time started) ABSL_LOCKS_EXCLUDED(mu_);
  // What this central durably holds of the peer's log on the current
  // connection: [the connection's first sequence, the last applied], in the
  // peer's log incarnation. nullopt when not connected or nothing applied.
  std::optional<kv::replication::v1::SourceHoldings> Holdings() const ABSL_LOCKS_EXCLUDED(mu_);
  // What this central holds has grown: the applier sends PullHoldings to
  // the peer soon (at most one per 5 ms).
  void HoldingsChanged() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  // One stream's life; returns when it ends.
  void PullOnce(const std::string& address) ABSL_LOCKS_EXCLUDED(mu_);
  // The applier of one stream: takes everything the reader queued, applies
  // its batches durably in one Apply with the new position (entries from
  // `expected` on), acks the last sequence with `send`, then advances
  // completeness by the heartbeats taken. Returns when the inbox is closed
  // and drained, or after failing it (apply error, ack not sent, Stop).
  void ApplyLoop(PullInbox& inbox, const std::string& incarnation, uint64_t expected,
                 const std::function<bool(const kv::replication::v1::PullRequest& request)>& send)
      ABSL_LOCKS_EXCLUDED(mu_);

  const PeerPullerOptions options_;
  const PeerSet& peers_;
  ReplicaStore& replica_;
  const std::function<void(uint32_t)> on_not_resumed_;

  absl::Notification stop_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
  PullInbox* active_inbox_ ABSL_GUARDED_BY(mu_) = nullptr;
  // The current connection: the peer's log incarnation and its first
  // sequence (Holdings).
  std::string incarnation_ ABSL_GUARDED_BY(mu_);
  uint64_t first_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  bool holdings_changed_ ABSL_GUARDED_BY(mu_) = false;
  bool holdings_nudged_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time holdings_sent_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Time last_message_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::central

#endif  // KV_CENTRAL_PEER_PULLER_H_
