// AntiEntropy: a round pulls what the peer holds newer, page by page, also
// from a peer that predates paging (one bucket per BucketKeys call); and
// periodic rounds take at most max_busy of the time. The peer is a real
// gRPC server on 127.0.0.1:0 answering from a second Storage.
#include "central/anti_entropy.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "central/peer_set.h"
#include "central/storage.h"
#include "common/grpc_status.h"
#include "proto/replication.grpc.pb.h"
#include "common/clock.h"
#include "tests/harness/eventually.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::central {
namespace {

namespace rpl = kv::replication::v1;

// The anti-entropy calls of a peer, answered from `storage`. With `old`, it
// answers BucketKeys as a central from before paging did: `bucket` alone,
// whole, `paged` unset.
class FakePeer final : public rpl::Replication::Service {
 public:
  FakePeer(Storage& storage, bool old) : storage_(storage), old_(old) {}

  grpc::Status Digests(grpc::ServerContext*, const rpl::DigestRequest* request,
                       rpl::DigestResponse* response) override {
    return Answer(storage_.replica().Digests(*request), response);
  }
  grpc::Status BucketKeys(grpc::ServerContext*, const rpl::BucketKeysRequest* request,
                          rpl::BucketKeysResponse* response) override {
    ++bucket_keys_calls;
    rpl::BucketKeysRequest asked = *request;
    if (old_) {
      asked.clear_bucket_set();
      asked.clear_start_after();
      asked.clear_until();
      asked.clear_max_keys();
    }
    grpc::Status status = Answer(storage_.replica().BucketKeys(asked), response);
    if (old_) {
      response->clear_paged();
      response->clear_complete();
    }
    return status;
  }
  grpc::Status Fetch(grpc::ServerContext*, const rpl::FetchRequest* request,
                     rpl::FetchResponse* response) override {
    std::vector<std::string> keys(request->keys().begin(), request->keys().end());
    absl::StatusOr<std::vector<kv::storage::v1::ChangeEntry>> entries =
        storage_.replica().Fetch(request->namespace_id(), keys);
    if (!entries.ok()) return ToGrpcStatus(entries.status());
    for (auto& entry : *entries) *response->add_entries() = std::move(entry);
    return grpc::Status::OK;
  }

  std::atomic<int> bucket_keys_calls{0};

 private:
  template <typename T>
  static grpc::Status Answer(absl::StatusOr<T> result, T* response) {
    if (!result.ok()) return ToGrpcStatus(result.status());
    *response = *std::move(result);
    return grpc::Status::OK;
  }

  Storage& storage_;
  const bool old_;
};

class AntiEntropyRoundTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, kv::testing::TempDir::Create("anti-entropy"));
    StorageOptions options;
    options.node_id = 1;
    options.data_dir = dir_->Path("local");
    // The real clock: a round's cut-offs (expiry, tombstone grace) are real
    // time.
    ASSERT_OK_AND_ASSIGN(local_, Storage::Open(options, RealClock::Get()));
    options.node_id = 2;
    options.data_dir = dir_->Path("peer");
    ASSERT_OK_AND_ASSIGN(peer_, Storage::Open(options, RealClock::Get()));
    fake_ = std::make_unique<FakePeer>(*peer_, /*old=*/GetParam());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(fake_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
    ASSERT_OK_AND_ASSIGN(peers_, PeerSet::Create(1, "", ""));
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
  }

  // One round of `anti_entropy` with the peer (node 2); the records repaired.
  absl::StatusOr<uint64_t> Round(AntiEntropy& anti_entropy) {
    const rpl::DigestRequest request = anti_entropy.NewDigestRequestForTesting();
    absl::StatusOr<rpl::DigestResponse> local = local_->replica().Digests(request);
    if (!local.ok()) return local.status();
    return anti_entropy.RunRound(2, address_, request, *local);
  }

  std::unique_ptr<kv::testing::TempDir> dir_;
  std::unique_ptr<Storage> local_;
  std::unique_ptr<Storage> peer_;
  std::unique_ptr<FakePeer> fake_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<PeerSet> peers_;
};

// The peer holds 60 keys (one deleted) this central has never seen, spread
// over most of 16 buckets: one round brings every one of them, tombstone
// included, through pages of 7 keys (or, from an old peer, bucket by
// bucket), and a second round finds nothing left to repair.
TEST_P(AntiEntropyRoundTest, ARoundPullsEverythingThePeerHoldsNewer) {
  ASSERT_OK_AND_ASSIGN(NamespaceInfo ns, peer_->CreateNamespace("acct", "shared"));
  for (int i = 0; i < 60; ++i) {
    PutOp op;
    op.key = absl::StrCat("key-", i);
    op.value = absl::StrCat("value-", i);
    ASSERT_OK(peer_->Put(ns.id, std::move(op)).status());
  }
  ASSERT_OK(peer_->Delete(ns.id, "key-7").status());

  AntiEntropyOptions options;
  options.buckets = 16;
  options.keys_per_page = 7;
  AntiEntropy anti_entropy(options, *peers_, local_->replica(), nullptr);
  auto round = [&] { return Round(anti_entropy); };
  ASSERT_OK_AND_ASSIGN(uint64_t repaired, round());
  EXPECT_EQ(repaired, 1u + 60u);  // the namespace row and every record
  for (int i = 0; i < 60; ++i) {
    absl::StatusOr<std::optional<Record>> record = local_->Get(ns.id, absl::StrCat("key-", i));
    ASSERT_OK(record.status());
    if (i == 7) {
      EXPECT_FALSE(record->has_value());
      std::vector<Version> dead;
      ASSERT_OK(local_->GetMany(ns.id, {"key-7"}, &dead).status());
      EXPECT_FALSE(dead[0].IsZero()) << "the tombstone was not repaired";
    } else {
      ASSERT_TRUE(record->has_value()) << "key-" << i;
      EXPECT_EQ((*record)->value, absl::StrCat("value-", i));
    }
  }
  // Pages of 7 from a paging peer: at least 60 / 7 calls; an old one is
  // asked once per differing bucket.
  EXPECT_GE(fake_->bucket_keys_calls.load(), GetParam() ? 12 : 9);
  ASSERT_OK_AND_ASSIGN(repaired, round());
  EXPECT_EQ(repaired, 0u);
}

// After an absence or a partition longer than the grace, digests take in
// every tombstone since this central last held every write (less the
// margin), so the deletes it missed reach it although they are past the
// grace; normally (it held everything a moment ago) the grace's cut-off
// stands; not known yet (InfinitePast): every tombstone.
TEST_P(AntiEntropyRoundTest, DigestsTakeInTheTombstonesThisCentralMayHaveMissed) {
  AntiEntropyOptions options;
  options.tombstone_grace = absl::Hours(24);
  options.catch_up_margin = absl::Seconds(6);
  const int64_t usual_ms = absl::ToUnixMillis(absl::Now() - absl::Hours(24));
  absl::Time held = absl::InfinitePast();
  options.holds_all_until = [&] { return held; };
  AntiEntropy anti_entropy(options, *peers_, local_->replica(), nullptr);
  EXPECT_EQ(anti_entropy.NewDigestRequestForTesting().tombstones_before_ms(), 0);
  held = absl::Now() - absl::Hours(72);
  EXPECT_EQ(anti_entropy.NewDigestRequestForTesting().tombstones_before_ms(),
            absl::ToUnixMillis(held - absl::Seconds(6)));
  held = absl::Now() - absl::Milliseconds(100);
  EXPECT_GT(anti_entropy.NewDigestRequestForTesting().tombstones_before_ms(), usual_ms);
  EXPECT_LT(anti_entropy.NewDigestRequestForTesting().tombstones_before_ms(),
            absl::ToUnixMillis(absl::Now() - absl::Hours(22)));

  // A tombstone past the grace that this side lacks: left out with the
  // usual cut-off, brought by a round that takes it in.
  ASSERT_OK_AND_ASSIGN(NamespaceInfo ns, peer_->CreateNamespace("acct", "old-delete"));
  PutOp op;
  op.key = "gone";
  op.value = "v";
  ASSERT_OK(peer_->Put(ns.id, std::move(op)).status());
  ASSERT_OK(peer_->Delete(ns.id, "gone").status());
  const absl::Time deleted = absl::Now();
  ASSERT_EVENTUALLY([&] { ASSERT_GT(absl::Now(), deleted + absl::Milliseconds(20)); });
  AntiEntropyOptions short_grace = options;
  short_grace.tombstone_grace = absl::Milliseconds(1);  // the delete is past it at once
  short_grace.catch_up_margin = absl::ZeroDuration();
  AntiEntropy catching_up(short_grace, *peers_, local_->replica(), nullptr);
  auto round = [&] { return Round(catching_up); };
  held = absl::Now();
  ASSERT_OK_AND_ASSIGN(uint64_t repaired, round());
  EXPECT_EQ(repaired, 1u) << "only the namespace row, not the old tombstone";
  held = absl::Now() - absl::Minutes(1);
  ASSERT_OK_AND_ASSIGN(repaired, round());
  EXPECT_EQ(repaired, 1u) << "the tombstone";
  std::vector<Version> dead;
  ASSERT_OK(local_->GetMany(ns.id, {"gone"}, &dead).status());
  EXPECT_FALSE(dead[0].IsZero()) << "the tombstone was not repaired";
}

INSTANTIATE_TEST_SUITE_P(PagingAndOldPeers, AntiEntropyRoundTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "OldPeer" : "PagingPeer";
                         });

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
