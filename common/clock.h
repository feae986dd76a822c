#ifndef KV_COMMON_CLOCK_H_
#define KV_COMMON_CLOCK_H_

#include "absl/time/time.h"

namespace kv {

// The only way logic reads time. Wall time (TimeNow) feeds the HLC,
// expirations and commit times; monotonic time (MonotonicNow) measures
// windows, heartbeat ages and timeouts and never goes back.
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time; may jump in either direction.
  virtual absl::Time TimeNow() = 0;
  // Time since an arbitrary fixed origin; never decreases.
  virtual absl::Duration MonotonicNow() = 0;
};

// The real clocks: absl::Now() and std::chrono::steady_clock.
class RealClock final : public Clock {
 public:
  absl::Time TimeNow() override;
  absl::Duration MonotonicNow() override;
  // A process-wide instance.
  static RealClock& Get();
  // Shifts TimeNow() (not MonotonicNow()) of every RealClock in the process
  // by `skew`: tests of a node whose wall clock is off (kv-central
  // --clock_skew_for_testing). Call before threads start.
  static void SetSkewForTesting(absl::Duration skew);
};

}  // namespace kv

#endif  // KV_COMMON_CLOCK_H_
