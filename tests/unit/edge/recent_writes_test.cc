#include "edge/recent_writes.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/harness/simulated_clock.h"

namespace kv::edge {
namespace {

using kv::testing::SimulatedClock;

TEST(RecentWritesTest, KeepsTheNewestVersionForTheWindow) {
  SimulatedClock clock;
  RecentWrites recent(absl::Seconds(60), 100, clock);
  EXPECT_FALSE(recent.Lookup("k").has_value());
  recent.Record("k", Version{10, 0, 1}, false);
  recent.Record("k", Version{5, 0, 2}, true);  // acknowledged late: older
  ASSERT_TRUE(recent.Lookup("k").has_value());
  EXPECT_EQ(recent.Lookup("k")->version, (Version{10, 0, 1}));
  EXPECT_FALSE(recent.Lookup("k")->deleted);
  recent.Record("k", Version{11, 0, 1}, true);
  EXPECT_TRUE(recent.Lookup("k")->deleted);

  clock.Advance(absl::Seconds(59));
  EXPECT_TRUE(recent.Lookup("k").has_value());
  clock.Advance(absl::Seconds(2));
  EXPECT_FALSE(recent.Lookup("k").has_value());
  EXPECT_EQ(recent.size(), 0u);
}

TEST(RecentWritesTest, BoundedByEntriesOldestFirst) {
  SimulatedClock clock;
  RecentWrites recent(absl::Seconds(60), 10, clock);
  for (int i = 0; i < 25; ++i) {
    recent.Record(absl::StrCat("k", i), Version{static_cast<uint64_t>(i + 1), 0, 1}, false);
    clock.Advance(absl::Milliseconds(1));
  }
  EXPECT_LE(recent.size(), 10u);
  EXPECT_FALSE(recent.Lookup("k0").has_value());
  EXPECT_TRUE(recent.Lookup("k24").has_value());
  // Rewriting one key many times stays bounded too.
  for (int i = 0; i < 1000; ++i) recent.Record("hot", Version{static_cast<uint64_t>(100 + i), 0, 1}, false);
  EXPECT_LE(recent.size(), 10u);
  EXPECT_EQ(recent.Lookup("hot")->version, (Version{1099, 0, 1}));
}

TEST(RecentWritesTest, SatisfiesWhenAtLeastAsNew) {
  const RecentWrites::Write put{Version{10, 0, 1}, false};
  const RecentWrites::Write del{Version{10, 0, 1}, true};
  EXPECT_TRUE(RecentWrites::Satisfies(true, Version{10, 0, 1}, put));
  EXPECT_TRUE(RecentWrites::Satisfies(true, Version{12, 0, 3}, put));
  EXPECT_FALSE(RecentWrites::Satisfies(true, Version{9, 5, 1}, put));
  EXPECT_FALSE(RecentWrites::Satisfies(false, Version(), put));  // central lacks the put
  EXPECT_TRUE(RecentWrites::Satisfies(false, Version{10, 0, 1}, del));  // its tombstone
  EXPECT_TRUE(RecentWrites::Satisfies(false, Version(), del));  // never existed there
  EXPECT_FALSE(RecentWrites::Satisfies(true, Version{9, 0, 1}, del));  // the older put
  EXPECT_TRUE(RecentWrites::Satisfies(false, Version{11, 0, 2}, put));  // deleted since
}

}  // namespace
}  // namespace kv::edge
