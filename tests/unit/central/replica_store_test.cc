// ReplicaStore: last writer wins for replicated mutations, progress kept with
// them, namespace tombstones, and digests that agree once replicas agree.
#include "central/replica_store.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "central/storage.h"
#include "proto/storage.pb.h"
#include "tests/harness/status_matchers.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using ::kv::storage::v1::ChangeEntry;

class ReplicaStoreTest : public StorageTest {
 protected:
  ReplicaStore& replica() { return storage_->replica(); }

  ChangeEntry PutEntry(const std::string& key, const std::string& value, Version version) {
    ChangeEntry entry;
    entry.set_kind(ChangeEntry::PUT);
    entry.set_namespace_id(ns_);
    entry.set_key(key);
    entry.set_value_included(true);
    entry.set_value(value);
    version.ToProto(entry.mutable_version());
    return entry;
  }
  ChangeEntry DeleteEntry(const std::string& key, Version version) {
    ChangeEntry entry;
    entry.set_kind(ChangeEntry::DELETE);
    entry.set_namespace_id(ns_);
    entry.set_key(key);
    version.ToProto(entry.mutable_version());
    return entry;
  }
  size_t Apply(std::vector<ChangeEntry> entries,
               std::optional<PeerProgress> progress = std::nullopt) {
    absl::StatusOr<size_t> applied = replica().Apply(std::move(entries), 9, progress);
    EXPECT_OK(applied);
    return applied.ok() ? *applied : 0;
  }
  // A version from peer node 9 at `ms`.
  static Version V(uint64_t ms) { return Version{ms, 0, 9}; }
};

TEST_F(ReplicaStoreTest, NewerVersionsWinOlderOnesAreSkipped) {
  const Version local = Put("k", "local");
  const uint64_t t = local.physical_ms;
  EXPECT_EQ(Apply({PutEntry("k", "older", V(t - 1))}), 0u);
  EXPECT_EQ(Get("k"), "local");
  EXPECT_EQ(Apply({PutEntry("k", "newer", V(t + 1))}), 1u);
  EXPECT_EQ(Get("k"), "newer");
  // A delete wins over an older put, and an older put does not resurrect it.
  EXPECT_EQ(Apply({DeleteEntry("k", V(t + 2)), PutEntry("k", "late", V(t + 1))}), 1u);
  EXPECT_EQ(Get("k"), "<none>");
  // Within one batch the newest of several writes to a key stays.
  EXPECT_EQ(Apply({PutEntry("j", "a", V(t + 5)), PutEntry("j", "b", V(t + 4))}), 1u);
  EXPECT_EQ(Get("j"), "a");
}

TEST_F(ReplicaStoreTest, AppliedEntriesEnterTheChangeLogSkippedOnesDoNot) {
  const uint64_t before = storage_->change_log().LastSequence();
  const uint64_t t = absl::ToUnixMillis(clock_.TimeNow());
  Apply({PutEntry("a", "1", V(t + 10)), PutEntry("b", "2", V(t + 10))});
  EXPECT_EQ(storage_->change_log().LastSequence(), before + 2);
  Apply({PutEntry("a", "0", V(t + 1))});  // older: not applied, not logged
  EXPECT_EQ(storage_->change_log().LastSequence(), before + 2);
}

TEST_F(ReplicaStoreTest, ProgressIsKeptWithTheEntriesAcrossARestart) {
  const uint64_t t = absl::ToUnixMillis(clock_.TimeNow());
  Apply({PutEntry("a", "1", V(t + 1))}, PeerProgress{"inc-9", 41});
  Apply({}, PeerProgress{"inc-9", 42});  // nothing to apply, only the position
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_OK_AND_ASSIGN(PeerProgress progress, replica().GetPeerProgress(9));
  EXPECT_EQ(progress.incarnation, "inc-9");
  EXPECT_GE(progress.sequence, 41u);
  EXPECT_EQ(Get("a"), "1");
  ASSERT_OK_AND_ASSIGN(PeerProgress none, replica().GetPeerProgress(5));
  EXPECT_EQ(none.incarnation, "");
}

TEST_F(ReplicaStoreTest, AppliedStreamEntriesRecordWhereTheyCameFrom) {
  const uint64_t t = static_cast<uint64_t>(absl::ToUnixMillis(clock_.TimeNow())) + 1;
  Put("older", "local");  // a local write: no origin
  const uint64_t local = storage_->change_log().LastSequence();
  // Peer 9's entries 20..22; "older" is held newer here, so two are logged.
  ASSERT_OK(replica()
                .Apply({PutEntry("a", "1", V(t)), PutEntry("older", "x", V(1)),
                        PutEntry("b", "2", V(t))},
                       9, PeerProgress{"inc-9", 22}, /*first_sequence=*/20)
                .status());
  const uint64_t last = storage_->change_log().LastSequence();
  ASSERT_EQ(last, local + 2);
  for (uint64_t seq = local + 1; seq <= last; ++seq) {
    std::optional<RelayOrigins::Source> source = replica().relay_origins().Find(seq);
    ASSERT_TRUE(source.has_value()) << seq;
    EXPECT_EQ(source->node_id, 9u);
    EXPECT_EQ(source->incarnation, "inc-9");
    EXPECT_EQ(source->first_sequence, 20u);
    EXPECT_EQ(source->last_sequence, 22u);
  }
  EXPECT_FALSE(replica().relay_origins().Find(local).has_value());
  // Without a position (anti-entropy repairs) nothing is recorded.
  Apply({PutEntry("c", "3", V(t))});
  EXPECT_FALSE(replica().relay_origins().Find(storage_->change_log().LastSequence()).has_value());
}

TEST_F(ReplicaStoreTest, RecordsOlderThanTheirNamespacesDeleteAreNotApplied) {
  const uint64_t t = absl::ToUnixMillis(clock_.TimeNow());
  ASSERT_OK(storage_->DeleteNamespace("acct", ns_));
  EXPECT_EQ(Apply({PutEntry("k", "v", V(t - 1000))}), 0u);
}

TEST_F(ReplicaStoreTest, DigestsAgreeExactlyWhenTheRecordsAgree) {
  kv::replication::v1::DigestRequest request;
  request.set_buckets(16);
  const uint64_t t = absl::ToUnixMillis(clock_.TimeNow());
  Apply({PutEntry("x", "1", V(t + 1)), PutEntry("y", "2", V(t + 1))});
  ASSERT_OK_AND_ASSIGN(auto first, replica().Digests(request));
  ASSERT_OK_AND_ASSIGN(auto again, replica().Digests(request));
  EXPECT_EQ(first.SerializeAsString(), again.SerializeAsString());
  Apply({PutEntry("y", "3", V(t + 2))});
  ASSERT_OK_AND_ASSIGN(auto changed, replica().Digests(request));
  ASSERT_EQ(changed.namespaces_size(), 1);
  // Exactly the bucket of "y" differs.
  const uint32_t bucket = ReplicaStore::BucketOf("y", 16);
  for (int b = 0; b < 16; ++b) {
    const bool same = first.namespaces(0).bucket_hashes(b) == changed.namespaces(0).bucket_hashes(b);
    EXPECT_EQ(same, b != static_cast<int>(bucket)) << "bucket " << b;
  }
  kv::replication::v1::BucketKeysRequest keys;
  keys.set_namespace_id(ns_);
  keys.set_bucket(bucket);
  keys.set_buckets(16);
  ASSERT_OK_AND_ASSIGN(auto listed, replica().BucketKeys(keys));
  bool found = false;
  for (const auto& kv : listed.keys()) found |= kv.key() == "y";
  EXPECT_TRUE(found);
}

// Several buckets in one scan, paged by max_keys and bounded by until: the
// pages put together are exactly the keys of those buckets, in key order.
TEST_F(ReplicaStoreTest, BucketKeysPagesThroughSeveralBuckets) {
  const uint64_t t = absl::ToUnixMillis(clock_.TimeNow());
  std::vector<ChangeEntry> entries;
  for (int i = 0; i < 60; ++i) entries.push_back(PutEntry(absl::StrCat("k", i), "v", V(t + 1)));
  Apply(std::move(entries));
  kv::replication::v1::BucketKeysRequest request;
  request.set_namespace_id(ns_);
  request.set_buckets(8);
  for (uint32_t b : {1u, 4u, 6u}) request.add_bucket_set(b);
  std::vector<std::string> expected;
  for (int i = 0; i < 60; ++i) {
    const std::string key = absl::StrCat("k", i);
    const uint32_t b = ReplicaStore::BucketOf(key, 8);
    if (b == 1 || b == 4 || b == 6) expected.push_back(key);
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_GT(expected.size(), 14u);

  ASSERT_OK_AND_ASSIGN(auto whole, replica().BucketKeys(request));
  EXPECT_TRUE(whole.paged());
  EXPECT_TRUE(whole.complete());
  std::vector<std::string> got;
  for (const auto& kv : whole.keys()) got.push_back(kv.key());
  EXPECT_EQ(got, expected);

  got.clear();
  request.set_max_keys(7);
  int pages = 0;
  while (true) {
    ASSERT_OK_AND_ASSIGN(auto page, replica().BucketKeys(request));
    ++pages;
    ASSERT_LE(page.keys_size(), 7);
    for (const auto& kv : page.keys()) got.push_back(kv.key());
    if (page.complete()) break;
    ASSERT_EQ(page.keys_size(), 7);
    request.set_start_after(page.keys(6).key());
    ASSERT_LT(pages, 100);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(pages, static_cast<int>((expected.size() + 6) / 7));

  // until bounds the range, inclusive.
  request.clear_max_keys();
  request.set_start_after(expected[2]);
  request.set_until(expected[5]);
  ASSERT_OK_AND_ASSIGN(auto bounded, replica().BucketKeys(request));
  ASSERT_EQ(bounded.keys_size(), 3);
  EXPECT_EQ(bounded.keys(0).key(), expected[3]);
  EXPECT_EQ(bounded.keys(2).key(), expected[5]);

  request.add_bucket_set(8);
  EXPECT_THAT(replica().BucketKeys(request),
              kv::testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace kv::central
