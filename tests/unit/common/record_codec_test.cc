#include "common/record_codec.h"

#include <gtest/gtest.h>

namespace kv {
namespace {

Record Sample() {
  Record r;
  for (int i = 0; i < 256; ++i) r.value.push_back(static_cast<char>(i));
  r.metadata = R"({"a":[1,2,"x"]})";
  r.expiration = 1'800'000'000;
  r.version = Version{1'700'000'000'123, 42, 3};
  return r;
}

TEST(RecordCodecTest, RoundTripsEveryField) {
  Record r = Sample();
  absl::StatusOr<Record> back = DecodeRecord(EncodeRecord(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->value, r.value);
  EXPECT_EQ(back->metadata, r.metadata);
  EXPECT_EQ(back->expiration, r.expiration);
  EXPECT_EQ(back->version, r.version);
  EXPECT_FALSE(back->tombstone);
}

TEST(RecordCodecTest, DistinguishesNoMetadataFromEmptyMetadataAndTombstones) {
  Record r;
  r.tombstone = true;
  r.version = Version{1, 2, 3};
  absl::StatusOr<Record> back = DecodeRecord(EncodeRecord(r));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->tombstone);
  EXPECT_FALSE(back->metadata.has_value());
  r.tombstone = false;
  r.metadata = "";
  back = DecodeRecord(EncodeRecord(r));
  ASSERT_TRUE(back.ok());
  ASSERT_TRUE(back->metadata.has_value());
  EXPECT_EQ(*back->metadata, "");
}

TEST(RecordCodecTest, HeaderAloneGivesVersionAndExpiration) {
  Record r = Sample();
  absl::StatusOr<RecordHeader> h = DecodeRecordHeader(EncodeRecord(r));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->version, r.version);
  EXPECT_EQ(h->expiration, r.expiration);
}

TEST(RecordCodecTest, HeadIsTheRecordWithoutItsValue) {
  Record r = Sample();
  ASSERT_FALSE(r.value.empty());
  const std::string head = EncodeRecordHead(r);
  EXPECT_EQ(EncodeRecord(r), head + r.value);
  absl::StatusOr<Record> back = DecodeRecord(head);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->version, r.version);
  EXPECT_EQ(back->expiration, r.expiration);
  EXPECT_EQ(back->metadata, r.metadata);
  EXPECT_EQ(back->value, "");
  Record tombstone;
  tombstone.tombstone = true;
  tombstone.version = r.version;
  absl::StatusOr<RecordHeader> h = DecodeRecordHeader(EncodeRecordHead(tombstone));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->tombstone);
  EXPECT_EQ(h->version, r.version);
}

TEST(RecordCodecTest, RejectsEveryTruncationWithoutCrashing) {
  const std::string bytes = EncodeRecord(Sample());
  const size_t header_and_metadata = 26 + 4 + Sample().metadata->size();
  for (size_t n = 0; n < header_and_metadata; ++n) {
    absl::StatusOr<Record> r = DecodeRecord(absl::string_view(bytes).substr(0, n));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << "length " << n;
  }
  std::string bad = bytes;
  bad[0] = 9;
  EXPECT_EQ(DecodeRecord(bad).status().code(), absl::StatusCode::kDataLoss);
  bad = bytes;
  bad[1] = static_cast<char>(0x80);
  EXPECT_EQ(DecodeRecord(bad).status().code(), absl::StatusCode::kDataLoss);
}

TEST(RecordTest, ExpiresAtItsExpirationSecond) {
  Record r;
  r.expiration = 1000;
  EXPECT_TRUE(r.IsLiveAt(absl::FromUnixSeconds(999)));
  EXPECT_FALSE(r.IsLiveAt(absl::FromUnixSeconds(1000)));
  r.tombstone = true;
  EXPECT_FALSE(r.IsLiveAt(absl::FromUnixSeconds(1)));
}

}  // namespace
}  // namespace kv
