#include "edge/stream_state.h"

#include <gtest/gtest.h>

#include "tests/harness/simulated_clock.h"

namespace kv::edge {
namespace {

using ::kv::testing::SimulatedClock;

TEST(StreamStateTest, NoProofBeforeTheFirstHeartbeat) {
  SimulatedClock clock;
  StreamState state(clock);
  EXPECT_EQ(state.Staleness(), absl::InfiniteDuration());
  state.OnConnected(1, "inc", 1);
  EXPECT_EQ(state.Staleness(), absl::InfiniteDuration());
}

TEST(StreamStateTest, StalenessIsTheCentralsLagPlusTimeSinceArrival) {
  SimulatedClock clock;
  StreamState state(clock);
  state.OnConnected(1, "inc", 1);
  state.OnApplied(10);
  // The central was complete up to 250 ms before it sent the heartbeat;
  // its wall clock is far off ours, which must not matter.
  ASSERT_TRUE(state.OnHeartbeat(10, 5'000'000'000 - 250, 5'000'000'000));
  EXPECT_EQ(state.Staleness(), absl::Milliseconds(250));
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(state.Staleness(), absl::Milliseconds(2250));
  EXPECT_EQ(state.HeartbeatAge(), absl::Seconds(2));
}

TEST(StreamStateTest, AHeartbeatAheadOfWhatWasAppliedProvesNothing) {
  SimulatedClock clock;
  StreamState state(clock);
  state.OnConnected(1, "inc", 1);
  state.OnApplied(5);
  EXPECT_FALSE(state.OnHeartbeat(6, 1000, 1000));
  EXPECT_EQ(state.Staleness(), absl::InfiniteDuration());
  state.OnApplied(6);
  EXPECT_TRUE(state.OnHeartbeat(6, 1000, 1000));
  EXPECT_EQ(state.Staleness(), absl::ZeroDuration());
}

// A central that cannot vouch for its completeness (alone since it
// started) sends complete_as_of 0: no proof, and an earlier one ages on.
TEST(StreamStateTest, ACentralWithoutCompletenessProvesNothing) {
  SimulatedClock clock;
  StreamState state(clock);
  state.OnConnected(1, "inc", 1);
  state.OnApplied(3);
  EXPECT_FALSE(state.OnHeartbeat(3, 0, 5'000'000'000));
  EXPECT_EQ(state.Staleness(), absl::InfiniteDuration());
  ASSERT_TRUE(state.OnHeartbeat(3, 5'000'000'000, 5'000'000'000));
  clock.Advance(absl::Seconds(2));
  EXPECT_FALSE(state.OnHeartbeat(3, 0, 5'000'002'000));
  EXPECT_EQ(state.Staleness(), absl::Seconds(2));
  EXPECT_EQ(state.HeartbeatAge(), absl::ZeroDuration());
}

TEST(StreamStateTest, DisconnectingEndsTheProofAndKeepsThePosition) {
  SimulatedClock clock;
  StreamState state(clock);
  state.OnConnected(3, "inc-a", 1);
  state.OnApplied(42);
  ASSERT_TRUE(state.OnHeartbeat(42, 1000, 1000));
  state.OnDisconnected();
  EXPECT_EQ(state.Staleness(), absl::InfiniteDuration());
  StreamState::Position p = state.position();
  EXPECT_EQ(p.central_id, 3u);
  EXPECT_EQ(p.incarnation, "inc-a");
  EXPECT_EQ(p.sequence, 42u);
  // Reconnecting needs a new heartbeat before anything is fresh again.
  state.OnConnected(3, "inc-a", 43);
  EXPECT_EQ(state.Staleness(), absl::InfiniteDuration());
  EXPECT_EQ(state.applied_sequence(), 42u);
}

}  // namespace
}  // namespace kv::edge
