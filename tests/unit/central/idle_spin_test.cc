#include "central/idle_spin.h"

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kv::central {
namespace {

TEST(IdleSpinTest, FirstIdlePeriodBlocks) {
  IdleSpin spin(absl::Microseconds(200));
  EXPECT_FALSE(spin.ShouldSpin());
}

TEST(IdleSpinTest, SpinsOnlyAfterAnIdlePeriodWithinTheWindow) {
  IdleSpin spin(absl::Microseconds(200));
  spin.OnIdleEnded(absl::Microseconds(120));  // a closed loop's next request
  EXPECT_TRUE(spin.ShouldSpin());
  spin.OnIdleEnded(absl::Microseconds(200));
  EXPECT_TRUE(spin.ShouldSpin());
  spin.OnIdleEnded(absl::Microseconds(201));  // too late: sleep next time
  EXPECT_FALSE(spin.ShouldSpin());
  spin.OnIdleEnded(absl::Milliseconds(30));  // sparse requests
  EXPECT_FALSE(spin.ShouldSpin());
  spin.OnIdleEnded(absl::ZeroDuration());  // work was waiting
  EXPECT_TRUE(spin.ShouldSpin());
}

TEST(IdleSpinTest, ZeroWindowNeverSpins) {
  IdleSpin spin(absl::ZeroDuration());
  spin.OnIdleEnded(absl::ZeroDuration());
  EXPECT_FALSE(spin.ShouldSpin());
}

}  // namespace
}  // namespace kv::central
