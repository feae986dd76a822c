#include "edge/stream_state.h"

#include <algorithm>

namespace kv::edge {

void StreamState::OnConnected(uint32_t central_id, const std::string& incarnation,
                              uint64_t start_sequence) {
  absl::MutexLock lock(&mu_);
  connected_ = true;
  position_.central_id = central_id;
  position_.incarnation = incarnation;
  position_.sequence = start_sequence - 1;
  // The proof of the previous stream holds until this one brings its own
  // heartbeat only if nothing was missed in between; be strict: none yet.
  complete_at_.reset();
}

void StreamState::OnDisconnected() {
  absl::MutexLock lock(&mu_);
  connected_ = false;
  complete_at_.reset();
}

void StreamState::OnApplied(uint64_t sequence) {
  absl::MutexLock lock(&mu_);
  position_.sequence = sequence;
}

bool StreamState::OnHeartbeat(uint64_t head_sequence, int64_t complete_as_of_ms,
                              int64_t central_time_ms) {
  const absl::Duration now = clock_.MonotonicNow();
  absl::MutexLock lock(&mu_);
  last_heartbeat_ = now;
  // complete_as_of 0: the central cannot vouch for its own completeness.
  if (!connected_ || position_.sequence < head_sequence || complete_as_of_ms <= 0) return false;
  const absl::Duration lag =
      absl::Milliseconds(std::max<int64_t>(0, central_time_ms - complete_as_of_ms));
  complete_at_ = now - lag;
  last_complete_as_of_ms_ = complete_as_of_ms;
  return true;
}

void StreamState::DistrustCachedBefore(absl::Duration t) {
  const int64_t ns = absl::ToInt64Nanoseconds(t);
  int64_t current = distrusted_before_ns_.load(std::memory_order_relaxed);
  while (current < ns && !distrusted_before_ns_.compare_exchange_weak(
                             current, ns, std::memory_order_release, std::memory_order_relaxed)) {
  }
}

int64_t StreamState::last_complete_as_of_ms() const {
  absl::MutexLock lock(&mu_);
  return last_complete_as_of_ms_;
}

absl::Duration StreamState::Staleness() const {
  const absl::Duration now = clock_.MonotonicNow();
  absl::MutexLock lock(&mu_);
  if (!connected_ || !complete_at_) return absl::InfiniteDuration();
  return now - *complete_at_;
}

absl::Duration StreamState::HeartbeatAge() const {
  const absl::Duration now = clock_.MonotonicNow();
  absl::MutexLock lock(&mu_);
  if (!last_heartbeat_) return absl::InfiniteDuration();
  return now - *last_heartbeat_;
}

bool StreamState::connected() const {
  absl::MutexLock lock(&mu_);
  return connected_;
}

StreamState::Position StreamState::position() const {
  absl::MutexLock lock(&mu_);
  return position_;
}

uint64_t StreamState::applied_sequence() const {
  absl::MutexLock lock(&mu_);
  return position_.sequence;
}

}  // namespace kv::edge
