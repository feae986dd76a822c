#include "common/clock.h"

#include <chrono>

#include "absl/time/clock.h"

namespace kv {

absl::Time RealClock::TimeNow() { return absl::Now(); }

absl::Duration RealClock::MonotonicNow() {
  return absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

RealClock& RealClock::Get() {
  static RealClock* clock = new RealClock();
  return *clock;
}

}  // namespace kv
