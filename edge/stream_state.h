#ifndef KV_EDGE_STREAM_STATE_H_
#define KV_EDGE_STREAM_STATE_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace kv::edge {

// What the edge knows about its invalidation stream: where it stands in
// which central's log, and since when it can prove it holds every change.
//
// Staleness is computed without comparing two machines' clocks: a heartbeat
// says "I had sent you everything committed before complete_as_of, and it
// is now central_time on my clock"; the edge adds the monotonic time since
// the heartbeat arrived. The proof lapses (staleness = infinite) when the
// stream disconnects.
// Thread-safe.
class StreamState {
 public:
  explicit StreamState(Clock& clock) : clock_(clock) {}

  struct Position {
    uint32_t central_id = 0;
    std::string incarnation;
    uint64_t sequence = 0;
  };

  // A stream was established with `central_id`/`incarnation`, continuing
  // after `start_sequence - 1`.
  void OnConnected(uint32_t central_id, const std::string& incarnation,
                   uint64_t start_sequence) ABSL_LOCKS_EXCLUDED(mu_);
  void OnDisconnected() ABSL_LOCKS_EXCLUDED(mu_);
  // Events up to `sequence` are applied.
  void OnApplied(uint64_t sequence) ABSL_LOCKS_EXCLUDED(mu_);
  // A heartbeat arrived. Returns false (and changes nothing but the
  // heartbeat age) when the edge has not yet applied `head_sequence`, or the
  // central's complete_as_of is 0 (it cannot vouch for its completeness):
  // either proves nothing.
  bool OnHeartbeat(uint64_t head_sequence, int64_t complete_as_of_ms,
                   int64_t central_time_ms) ABSL_LOCKS_EXCLUDED(mu_);

  // How old the proof of completeness is; InfiniteDuration() when there is
  // none (never connected, disconnected, or no heartbeat since connecting).
  absl::Duration Staleness() const ABSL_LOCKS_EXCLUDED(mu_);
  // Time since the last heartbeat arrived (infinite when none).
  absl::Duration HeartbeatAge() const ABSL_LOCKS_EXCLUDED(mu_);
  bool connected() const ABSL_LOCKS_EXCLUDED(mu_);
  // Where to resume; central_id 0 when the edge has no position.
  Position position() const ABSL_LOCKS_EXCLUDED(mu_);
  // The last complete_as_of (Unix ms on the central's clock) of a heartbeat
  // that proved completeness; 0 when none. A failover resumes by time from it.
  int64_t last_complete_as_of_ms() const ABSL_LOCKS_EXCLUDED(mu_);
  // Applied sequence, for "not found" entries cached as of a position.
  uint64_t applied_sequence() const ABSL_LOCKS_EXCLUDED(mu_);

  // The edge lost continuity (a resume refused, a gap): entries cached
  // before monotonic time `t` may have missed changes and are not served
  // until revalidated (their cached_at advanced past `t`). Never moves back.
  void DistrustCachedBefore(absl::Duration t);
  absl::Duration distrusted_before() const {
    return absl::Nanoseconds(distrusted_before_ns_.load(std::memory_order_acquire));
  }

 private:
  Clock& clock_;
  mutable absl::Mutex mu_;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  Position position_ ABSL_GUARDED_BY(mu_);
  // Monotonic time at which the edge was provably complete (heartbeat
  // arrival minus the central's own completeness lag).
  std::optional<absl::Duration> complete_at_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Duration> last_heartbeat_ ABSL_GUARDED_BY(mu_);
  int64_t last_complete_as_of_ms_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<int64_t> distrusted_before_ns_{INT64_MIN};
};

}  // namespace kv::edge

#endif  // KV_EDGE_STREAM_STATE_H_
