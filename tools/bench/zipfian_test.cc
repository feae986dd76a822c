#include "tools/bench/zipfian.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tools/bench/latency_series.h"

namespace kv::bench {
namespace {

TEST(ZipfianTest, SkewedInRangeAndScrambled) {
  constexpr uint64_t kN = 1000;
  const Zipfian zipf(kN);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<int> counts(kN, 0);
  constexpr int kDraws = 200000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t k = zipf.Next(uniform(rng));
    ASSERT_LT(k, kN);
    ++counts[k];
  }
  std::vector<int> sorted = counts;
  std::sort(sorted.rbegin(), sorted.rend());
  // theta 0.99 over 1000 keys: the hottest key takes ~13 %, the top 10 ~40 %.
  EXPECT_GT(sorted[0], kDraws / 12);
  EXPECT_LT(sorted[0], kDraws / 5);
  int top10 = 0;
  for (int i = 0; i < 10; ++i) top10 += sorted[i];
  EXPECT_GT(top10, kDraws / 4);
  // Scrambled: the hottest key is not key 0.
  EXPECT_NE(std::max_element(counts.begin(), counts.end()) - counts.begin(), 0);
}

TEST(LatencySeriesTest, BucketsByTime) {
  LatencySeries a(0.1), b(0.1);
  for (int i = 0; i < 10; ++i) a.Record(0.05, 100 + i);
  b.Record(0.25, 500);
  a.Merge(b);
  const std::vector<SeriesPoint> points = a.Points();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].t_sec, 0.0);
  EXPECT_DOUBLE_EQ(points[0].ops_per_sec, 100.0);
  EXPECT_NEAR(points[0].p50_us, 105, 1);
  EXPECT_NEAR(points[1].t_sec, 0.2, 1e-9);
  EXPECT_DOUBLE_EQ(points[1].p99_us, 500);
}

}  // namespace
}  // namespace kv::bench
