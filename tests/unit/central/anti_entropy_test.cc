// AntiEntropy's pacing: periodic rounds take at most max_busy of the time.
#include "central/anti_entropy.h"

#include <gtest/gtest.h>

namespace kv::central {
namespace {

TEST(AntiEntropyPacingTest, QuickRoundsKeepTheIntervalLongOnesGetFurtherApart) {
  const absl::Duration interval = absl::Seconds(10);
  EXPECT_EQ(AntiEntropy::PeriodicWait(interval, absl::Milliseconds(10), 0.05), interval);
  // 2 s of rounds at 5 %: 38 s of rest, 40 s per cycle.
  EXPECT_EQ(AntiEntropy::PeriodicWait(interval, absl::Seconds(2), 0.05), absl::Seconds(38));
  EXPECT_EQ(AntiEntropy::PeriodicWait(interval, absl::Seconds(1), 0.5), interval);
  EXPECT_EQ(AntiEntropy::PeriodicWait(interval, absl::Seconds(20), 0.5), absl::Seconds(20));
  // Outside (0, 1): no bound.
  EXPECT_EQ(AntiEntropy::PeriodicWait(interval, absl::Seconds(100), 0), interval);
  EXPECT_EQ(AntiEntropy::PeriodicWait(interval, absl::Seconds(100), 1), interval);
}

}  // namespace
}  // namespace kv::central
