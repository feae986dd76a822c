// RelayOrigins: which source log range a local change-log sequence came
// from, for the recent batches only; and when a peer's holdings cover it.
#include "central/relay_origins.h"

#include <gtest/gtest.h>

namespace kv::central {
namespace {

using kv::replication::v1::SourceHoldings;

RelayOrigins::Source From(uint32_t node, uint64_t first, uint64_t last) {
  return RelayOrigins::Source{node, "inc", first, last};
}

TEST(RelayOriginsTest, FindsTheBatchASequenceBelongsTo) {
  RelayOrigins origins;
  origins.Record(10, 12, From(1, 100, 104));
  origins.Record(13, 13, From(3, 7, 7));
  origins.Record(20, 25, From(1, 105, 110));  // 14..19: local writes
  EXPECT_FALSE(origins.Find(9).has_value());
  for (uint64_t seq : {10, 11, 12}) EXPECT_EQ(origins.Find(seq)->first_sequence, 100u) << seq;
  EXPECT_EQ(origins.Find(13)->node_id, 3u);
  EXPECT_FALSE(origins.Find(14).has_value());
  EXPECT_FALSE(origins.Find(19).has_value());
  EXPECT_EQ(origins.Find(25)->last_sequence, 110u);
  EXPECT_FALSE(origins.Find(26).has_value());
}

TEST(RelayOriginsTest, KeepsTheLastBatchesOnly) {
  RelayOrigins origins(/*capacity=*/2);
  origins.Record(1, 1, From(1, 1, 1));
  origins.Record(2, 2, From(1, 2, 2));
  origins.Record(3, 3, From(1, 3, 3));
  EXPECT_FALSE(origins.Find(1).has_value());  // forgotten: relayed as before
  EXPECT_TRUE(origins.Find(2).has_value());
  EXPECT_TRUE(origins.Find(3).has_value());
}

TEST(RelayOriginsTest, IgnoresEmptyRanges) {
  RelayOrigins origins;
  origins.Record(0, 0, From(1, 1, 1));
  origins.Record(5, 4, From(1, 1, 1));
  EXPECT_FALSE(origins.Find(0).has_value());
  EXPECT_FALSE(origins.Find(4).has_value());
  EXPECT_FALSE(origins.Find(5).has_value());
}

TEST(RelayOriginsTest, HoldingsCoverOnlyTheSameLogAndTheWholeBatch) {
  const SourceHoldings held = RelayOrigins::ToHoldings(From(1, 100, 110));
  EXPECT_EQ(held.node_id(), 1u);
  EXPECT_EQ(held.incarnation(), "inc");
  EXPECT_EQ(held.first_sequence(), 100u);
  EXPECT_EQ(held.last_sequence(), 110u);
  EXPECT_TRUE(RelayOrigins::Covers(held, From(1, 100, 110)));
  EXPECT_TRUE(RelayOrigins::Covers(held, From(1, 104, 104)));
  EXPECT_FALSE(RelayOrigins::Covers(held, From(1, 99, 104)));   // starts before
  EXPECT_FALSE(RelayOrigins::Covers(held, From(1, 105, 111)));  // not applied yet
  EXPECT_FALSE(RelayOrigins::Covers(held, From(2, 104, 104)));  // another node
  RelayOrigins::Source other = From(1, 104, 104);
  other.incarnation = "older-inc";  // the node's data was wiped since
  EXPECT_FALSE(RelayOrigins::Covers(held, other));
}

}  // namespace
}  // namespace kv::central
