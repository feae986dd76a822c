#include "tools/bench/prom_scrape.h"

#include <cmath>

#include "gtest/gtest.h"

namespace kv::bench {
namespace {

constexpr char kText[] = R"(# HELP kv_propagation_latency_seconds Central commit time to applied
# TYPE kv_propagation_latency_seconds histogram
kv_propagation_latency_seconds_count 10
kv_propagation_latency_seconds_sum 0.0125
kv_propagation_latency_seconds_bucket{le="0.001"} 4
kv_propagation_latency_seconds_bucket{le="0.002"} 8
kv_propagation_latency_seconds_bucket{le="0.004"} 10
kv_propagation_latency_seconds_bucket{le="+Inf"} 10
kv_propagation_latency_seconds_other 3
kv_stream_connected 1
kv_stream_connected_total{x="y"} 7
)";

TEST(PromScrapeTest, ParsesHistogramAndSamples) {
  absl::StatusOr<PromHistogram> h = ParseHistogram(kText, "kv_propagation_latency_seconds");
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->le.size(), 4u);
  EXPECT_TRUE(std::isinf(h->le.back()));
  EXPECT_EQ(h->cumulative[1], 8);
  EXPECT_EQ(h->count, 10);
  EXPECT_DOUBLE_EQ(h->sum, 0.0125);
  EXPECT_EQ(*ParseSample(kText, "kv_stream_connected"), 1);
  EXPECT_FALSE(ParseSample(kText, "kv_stream").ok());
  EXPECT_FALSE(ParseHistogram(kText, "nope").ok());
}

TEST(PromScrapeTest, QuantilesInterpolateWithinBuckets) {
  PromHistogram h = *ParseHistogram(kText, "kv_propagation_latency_seconds");
  // rank 5 of 10 lies in (0.001, 0.002] holding ranks 5..8: 1/4 of the way.
  EXPECT_DOUBLE_EQ(h.Quantile(0.5), 0.001 + 0.001 * (5 - 4) / 4.0);
  // rank 2: first bucket spans [0, 0.001].
  EXPECT_DOUBLE_EQ(h.Quantile(0.2), 0.0005);
  EXPECT_DOUBLE_EQ(h.Quantile(1.0), 0.004);
  EXPECT_DOUBLE_EQ(h.MaxUpperBound(), 0.004);
}

TEST(PromScrapeTest, DeltaSumAndOverflowBucket) {
  PromHistogram before = *ParseHistogram(kText, "kv_propagation_latency_seconds");
  PromHistogram after = before;
  after.cumulative = {4, 8, 10, 12};  // two observations above 4 ms
  after.count = 12;
  PromHistogram d = *after.Minus(before);
  EXPECT_EQ(d.count, 2);
  bool above = false;
  EXPECT_DOUBLE_EQ(d.Quantile(0.5, &above), 0.004);
  EXPECT_TRUE(above);
  EXPECT_TRUE(std::isinf(d.MaxUpperBound()));
  PromHistogram sum;
  ASSERT_TRUE(sum.Add(before).ok());
  ASSERT_TRUE(sum.Add(before).ok());
  EXPECT_EQ(sum.cumulative[2], 20);
  PromHistogram other = before;
  other.le[0] = 0.5;
  EXPECT_FALSE(sum.Add(other).ok());
  EXPECT_EQ(PromHistogram().Quantile(0.5), 0);
}

}  // namespace
}  // namespace kv::bench
