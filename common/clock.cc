#include "common/clock.h"

#include <chrono>

#include "absl/time/clock.h"

namespace kv {

namespace {
absl::Duration skew_for_testing = absl::ZeroDuration();
}  // namespace

absl::Time RealClock::TimeNow() { return absl::Now() + skew_for_testing; }

void RealClock::SetSkewForTesting(absl::Duration skew) { skew_for_testing = skew; }

absl::Duration RealClock::MonotonicNow() {
  return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

RealClock& RealClock::Get() {
  static RealClock* clock = new RealClock();
  return *clock;
}

}  // namespace kv
