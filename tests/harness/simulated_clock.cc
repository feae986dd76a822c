#include "tests/harness/simulated_clock.h"

namespace kv::testing {

SimulatedClock::SimulatedClock(absl::Time start) : wall_(start) {}

absl::Time SimulatedClock::TimeNow() {
  absl::MutexLock lock(&mu_);
  return wall_;
}

absl::Duration SimulatedClock::MonotonicNow() {
  absl::MutexLock lock(&mu_);
  return monotonic_;
}

void SimulatedClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  wall_ += d;
  monotonic_ += d;
}

void SimulatedClock::SetTime(absl::Time t) {
  absl::MutexLock lock(&mu_);
  wall_ = t;
}

}  // namespace kv::testing
