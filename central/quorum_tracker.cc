#include "central/quorum_tracker.h"

#include <algorithm>

namespace kv::central {

void QuorumTracker::OnAck(uint32_t peer_id, uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  uint64_t& acked = acked_[peer_id];
  acked = std::max(acked, sequence);
}

size_t QuorumTracker::CountAtLeast(uint64_t sequence) const {
  size_t count = 0;
  for (const auto& [peer, acked] : acked_) count += acked >= sequence ? 1 : 0;
  return count;
}

size_t QuorumTracker::WaitFor(uint64_t sequence, size_t needed, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto reached = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return CountAtLeast(sequence) >= needed;
  };
  mu_.AwaitWithDeadline(absl::Condition(&reached), deadline);
  return std::min(CountAtLeast(sequence), needed);
}

uint64_t QuorumTracker::Acked(uint32_t peer_id) const {
  absl::MutexLock lock(&mu_);
  auto it = acked_.find(peer_id);
  return it == acked_.end() ? 0 : it->second;
}

}  // namespace kv::central
