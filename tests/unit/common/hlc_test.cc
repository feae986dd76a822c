#include "common/hlc.h"

#include <gtest/gtest.h>

#include "tests/harness/simulated_clock.h"

namespace kv {
namespace {

using ::kv::testing::SimulatedClock;

TEST(HlcTest, FollowsWallClockAndOrdersWithinAMillisecond) {
  SimulatedClock clock;
  Hlc hlc(clock, 7);
  Version a = hlc.Now();
  Version b = hlc.Now();
  EXPECT_EQ(a.physical_ms, static_cast<uint64_t>(absl::ToUnixMillis(clock.TimeNow())));
  EXPECT_EQ(a.node_id, 7u);
  EXPECT_LT(a, b);
  EXPECT_EQ(b.physical_ms, a.physical_ms);
  EXPECT_EQ(b.logical, a.logical + 1);
  clock.Advance(absl::Milliseconds(5));
  Version c = hlc.Now();
  EXPECT_EQ(c.physical_ms, a.physical_ms + 5);
  EXPECT_EQ(c.logical, 0u);
}

TEST(HlcTest, NeverGoesBackWhenTheWallClockDoes) {
  SimulatedClock clock;
  Hlc hlc(clock, 1);
  Version before = hlc.Now();
  clock.SetTime(clock.TimeNow() - absl::Hours(1));
  Version after = hlc.Now();
  EXPECT_GT(after, before);
  EXPECT_EQ(after.physical_ms, before.physical_ms);
}

TEST(HlcTest, ObserveAdvancesPastARemoteVersion) {
  SimulatedClock clock;
  Hlc hlc(clock, 1);
  Version remote{static_cast<uint64_t>(absl::ToUnixMillis(clock.TimeNow())) + 200, 9, 2};
  ASSERT_TRUE(hlc.Observe(remote, absl::Milliseconds(500)).ok());
  Version next = hlc.Now();
  EXPECT_GT(next, remote);
  EXPECT_EQ(next.physical_ms, remote.physical_ms);
  EXPECT_EQ(next.logical, 10u);
}

TEST(HlcTest, ObserveRefusesVersionsBeyondTheMaximumOffset) {
  SimulatedClock clock;
  Hlc hlc(clock, 1);
  const uint64_t now_ms = static_cast<uint64_t>(absl::ToUnixMillis(clock.TimeNow()));
  absl::Status s = hlc.Observe(Version{now_ms + 501, 0, 2}, absl::Milliseconds(500));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("501 ms ahead"), std::string::npos) << s;
  EXPECT_LT(hlc.Now().physical_ms, now_ms + 501);
  EXPECT_TRUE(hlc.Observe(Version{now_ms + 500, 0, 2}, absl::Milliseconds(500)).ok());
}

TEST(HlcTest, AdvanceToSetsAFloor) {
  SimulatedClock clock;
  Hlc hlc(clock, 3);
  const uint64_t now_ms = static_cast<uint64_t>(absl::ToUnixMillis(clock.TimeNow()));
  Version stored{now_ms + 60'000, 4, 1};
  hlc.AdvanceTo(stored);
  Version next = hlc.Now();
  EXPECT_GT(next, stored);
  hlc.AdvanceTo(Version{1, 0, 0});  // lower floors change nothing
  EXPECT_GT(hlc.Now(), next);
}

TEST(HlcTest, TieBreaksByNodeId) {
  EXPECT_LT((Version{5, 1, 1}), (Version{5, 1, 2}));
  EXPECT_LT((Version{5, 1, 9}), (Version{5, 2, 1}));
  EXPECT_LT((Version{5, 9, 9}), (Version{6, 0, 0}));
}

}  // namespace
}  // namespace kv
