#ifndef KV_CENTRAL_PEER_PULLER_H_
#define KV_CENTRAL_PEER_PULLER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "central/peer_set.h"
#include "central/replica_store.h"

namespace grpc {
class ClientContext;
}

namespace kv::central {

struct PeerPullerOptions {
  uint32_t self_id = 1;
  uint32_t peer_id = 2;
  // Sent as "authorization: Bearer <token>"; empty = none (dev mode).
  std::string token;
  // A stream silent for this long (no batch, no heartbeat) is cut and
  // re-opened. Default: 3 s (3 heartbeats).
  absl::Duration silence_timeout = absl::Seconds(3);
  // Peers' clocks may be this far off; completeness is judged that much
  // earlier than a peer's heartbeat time. Default: 500 ms.
  absl::Duration max_clock_offset = absl::Milliseconds(500);
};

// The receiver side of replication from one peer (proto/replication.proto):
// keeps a Pull stream open (reconnecting with backoff, the address re-read
// from the PeerSet each time), applies each batch durably through the
// ReplicaStore together with the new position, then acks it.
//
// Guarantees: entries are applied in the peer's sequence order without
// gaps (a gap or an apply error cuts the stream and it resumes from the last
// durable position); an ack is sent only once the batch is durable; when the
// peer cannot resume from our position, `on_not_resumed` is called so
// anti-entropy repairs what the stream skipped.
// Thread-safe accessors; one thread.
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

 private:
  void Run();
  // One stream's life; returns when it ends.
  void PullOnce(const std::string& address) ABSL_LOCKS_EXCLUDED(mu_);

  const PeerPullerOptions options_;
  const PeerSet& peers_;
  ReplicaStore& replica_;
  const std::function<void(uint32_t)> on_not_resumed_;

  absl::Notification stop_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_);
  grpc::ClientContext* active_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Time last_message_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::central

#endif  // KV_CENTRAL_PEER_PULLER_H_
