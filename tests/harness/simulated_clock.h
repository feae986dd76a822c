#ifndef KV_TESTS_HARNESS_SIMULATED_CLOCK_H_
#define KV_TESTS_HARNESS_SIMULATED_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace kv::testing {

// A Clock that moves only when told. Advance() moves wall and monotonic time
// together; SetTime() jumps the wall clock alone (either direction).
// Thread-safe.
class SimulatedClock final : public Clock {
 public:
  // Starts at `start` (wall) and an arbitrary monotonic origin.
  explicit SimulatedClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));

  absl::Time TimeNow() override ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration MonotonicNow() override ABSL_LOCKS_EXCLUDED(mu_);

  void Advance(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  void SetTime(absl::Time t) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Mutex mu_;
  absl::Time wall_ ABSL_GUARDED_BY(mu_);
  absl::Duration monotonic_ ABSL_GUARDED_BY(mu_) = absl::Hours(1);
};

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_SIMULATED_CLOCK_H_
