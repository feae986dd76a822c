#ifndef KV_CENTRAL_QUORUM_TRACKER_H_
#define KV_CENTRAL_QUORUM_TRACKER_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kv::central {

// How far each peer has durably applied this central's change log (the acks
// of its Pull stream), and waiting for a write quorum of them.
// Sequences only grow (one log incarnation per process). Thread-safe.
class QuorumTracker {
 public:
  // Peer `peer_id` has every entry up to `sequence` durably.
  void OnAck(uint32_t peer_id, uint64_t sequence) ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until at least `needed` peers have acked `sequence` or `deadline`
  // passes; returns how many have (capped at `needed`).
  size_t WaitFor(uint64_t sequence, size_t needed, absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t Acked(uint32_t peer_id) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  size_t CountAtLeast(uint64_t sequence) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint32_t, uint64_t> acked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::central

#endif  // KV_CENTRAL_QUORUM_TRACKER_H_
