// Partitions made with kv-faultproxy (issues 5 and 9): a central cut off from
// its peers, writes on both sides, the heal; deletes are not resurrected; an
// edge of a cut-off central keeps within its window.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "proto/replication.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/harness/central_cluster.h"
#include "tests/harness/edge_process.h"
#include "tests/harness/eventually.h"
#include "tests/harness/fault_proxy.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kv::testing {
namespace {

using ::testing::HasSubstr;

class PartitionTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(UseProxy());
  }

  // The central's digests (every namespace's bucket hashes and rows) as
  // one comparable string.
  std::string Digest(int index) {
    auto stub = kv::replication::v1::Replication::NewStub(
        NewKvChannel(cluster_->central(index).grpc_addr()));
    kv::replication::v1::DigestRequest request;
    request.set_buckets(64);
    kv::replication::v1::DigestResponse response;
    grpc::Status status = stub->Digests(NewClientContext("").get(), request, &response);
    if (!status.ok()) return absl::StrCat("<error: ", status.error_message(), ">");
    std::map<std::string, std::string> parts;
    for (const auto& ns : response.namespaces()) {
      std::string& part = parts[ns.namespace_id()];
      for (uint64_t h : ns.bucket_hashes()) absl::StrAppend(&part, h, ",");
    }
    for (auto row : response.namespace_rows()) parts["row:" + row.id()] = row.SerializeAsString();
    std::string out;
    for (const auto& [k, v] : parts) absl::StrAppend(&out, k, "=", v, ";");
    return out;
  }

};

// Issue 5 (b): partition one central, write on both sides, heal: every
// central reaches identical digests; prints how long that took.
TEST_F(PartitionTest, WritesOnBothSidesConvergeAfterHeal) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "split");
  ASSERT_OK(ToAbslStatus(Put(0, ns, "both", "before")));
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, "both"), "before"); });
  ASSERT_OK(cluster_->Isolate(2));

  // The minority side: refused for want of a quorum, but kept.
  std::vector<std::pair<std::string, std::string>> minority;
  for (int i = 0; i < 20; ++i) minority.emplace_back(absl::StrCat("minority-", i), "m");
  minority.emplace_back("both", "minority-first");
  grpc::Status status = BulkPut(2, ns, minority);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), HasSubstr("durable on 1 of 3"));
  // The majority side: acknowledged; its later write of "both" wins.
  for (int i = 0; i < 100; ++i) ASSERT_OK(ToAbslStatus(Put(i % 2, ns, absl::StrCat("majority-", i), "M")));
  ASSERT_OK(ToAbslStatus(Put(1, ns, "both", "majority-last")));
  EXPECT_NE(Digest(0), Digest(2));

  const absl::Time healed = absl::Now();
  ASSERT_OK(cluster_->Heal());
  ASSERT_EVENTUALLY(
      [&] {
        const std::string first = Digest(0);
        ASSERT_THAT(first, ::testing::Not(HasSubstr("<error")));
        ASSERT_EQ(Digest(1), first);
        ASSERT_EQ(Digest(2), first);
      },
      absl::Seconds(30));
  const absl::Duration took = absl::Now() - healed;
  printf("partition healed: identical digests on 3 centrals after %s\n",
         absl::FormatDuration(absl::Trunc(took, absl::Milliseconds(1))).c_str());
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(Get(c, ns, "both"), "majority-last") << "central " << c + 1;
    EXPECT_EQ(Get(c, ns, "minority-7"), "m") << "central " << c + 1;
    EXPECT_EQ(Get(c, ns, "majority-42"), "M") << "central " << c + 1;
  }
}

// Relays: a write reaches each central from the central that accepted it,
// and the other centrals leave it out of what they relay (the receiver said
// it holds it)...
TEST_F(PartitionTest, RelaysOfWritesEveryCentralGotDirectlyAreLeftOut) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "direct");
  // Central 2 relays central 1's writes to central 3 and central 3 to
  // central 2. Whether one relay batch is covered depends on timing (the
  // holdings must arrive within the relay linger), so write until both
  // streams have left some out.
  auto left_out = [&](int source, const std::string& receiver) {
    absl::StatusOr<double> n = cluster_->central(source).Metric(
        "kv_replication_relays_left_out_total", {{"peer", receiver}});
    return n.ok() ? *n : 0.0;
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  for (int i = 0;; ++i) {
    ASSERT_OK(ToAbslStatus(Put(0, ns, absl::StrCat("k", i), "v")));
    if (i % 10 == 9 && left_out(1, "3") > 0 && left_out(2, "2") > 0) break;
    ASSERT_LT(absl::Now(), deadline) << "after " << i + 1 << " writes: central 2 left out "
                                     << left_out(1, "3") << ", central 3 " << left_out(2, "2");
  }
}

// ...but a central cut off from that central still gets the write from the
// others, at once (anti-entropy is off here): what it does not hold is
// relayed whole.
TEST_F(PartitionTest, RelaysReachACentralCutOffFromTheWritesOrigin) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--anti_entropy_interval=1h"}));
  const std::string ns = CreateNamespace(0, "relayed");
  ASSERT_OK(ToAbslStatus(Put(0, ns, "before", "v")));
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, "before"), "v"); });
  ASSERT_OK(cluster_->CutLink(0, 2));
  for (int i = 0; i < 20; ++i)
    ASSERT_OK(ToAbslStatus(Put(0, ns, absl::StrCat("cut-", i), absl::StrCat("v", i))));
  ASSERT_EVENTUALLY([&] {
    for (int i = 0; i < 20; ++i)
      ASSERT_EQ(Get(2, ns, absl::StrCat("cut-", i)), absl::StrCat("v", i)) << i;
  });
}

// Issue 5 (c): a delete made during a partition is not resurrected by the
// central that missed it, after the heal or after anti-entropy rounds.
TEST_F(PartitionTest, DeleteDuringPartitionIsNotResurrected) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "deletes");
  ASSERT_OK(ToAbslStatus(Put(0, ns, "doomed", "alive")));
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, "doomed"), "alive"); });
  ASSERT_OK(cluster_->Isolate(2));
  ASSERT_OK(ToAbslStatus(Delete(0, ns, "doomed")));
  EXPECT_EQ(Get(2, ns, "doomed"), "alive");  // the cut-off side still has it
  ASSERT_OK(cluster_->Heal());
  for (int c = 0; c < 3; ++c) {
    ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(c, ns, "doomed"), "<not found>"); });
  }
  // Two more successful anti-entropy rounds of every central with every
  // peer later, still gone everywhere.
  auto rounds = [&](int c, int peer) -> double {
    absl::StatusOr<double> n = cluster_->central(c).Metric(
        "kv_anti_entropy_rounds_total", {{"peer", absl::StrCat(peer + 1)}, {"result", "ok"}});
    return n.ok() ? *n : 0;
  };
  double before[3][3] = {};
  for (int c = 0; c < 3; ++c)
    for (int peer = 0; peer < 3; ++peer)
      if (peer != c) before[c][peer] = rounds(c, peer);
  for (int c = 0; c < 3; ++c) {
    for (int peer = 0; peer < 3; ++peer) {
      if (peer == c) continue;
      ASSERT_EVENTUALLY([&] { ASSERT_GE(rounds(c, peer), before[c][peer] + 2); });
    }
  }
  for (int c = 0; c < 3; ++c) EXPECT_EQ(Get(c, ns, "doomed"), "<not found>") << c + 1;
}

// A partition longer than the tombstone grace: by the heal, the majority's
// logs no longer reach back to where the cut-off central left off, and the
// delete is past the grace that digests normally keep tombstones for. The
// cut-off central's anti-entropy takes in the tombstones since it last held
// every write, and the delete reaches it (docs/replication.md,
// "Anti-entropy").
TEST_F(PartitionTest, DeleteDuringAPartitionLongerThanTheGraceIsNotResurrected) {
  // Rounds only when a stream cannot resume (at the heal): a periodic
  // round begun before the delete, its request cut off before the grace
  // passed, could otherwise hang through the partition and bring the
  // delete at the heal.
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--tombstone_grace=3s", "--log_retention=1s",
                                        "--trim_interval=200ms", "--anti_entropy_interval=1h"}));
  const std::string ns = CreateNamespace(0, "long-partition");
  ASSERT_OK(ToAbslStatus(Put(0, ns, "doomed", "alive")));
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, "doomed"), "alive"); });
  ASSERT_OK(cluster_->Isolate(2));
  ASSERT_OK(ToAbslStatus(Delete(0, ns, "doomed")));
  const absl::Time deleted_at = absl::Now();
  ASSERT_OK(ToAbslStatus(Put(0, ns, "later", "v")));
  // The majority trims its logs up to their last entry (1 s retention),
  // past the delete, and the grace (3 s, less its margin) passes.
  ASSERT_NO_FATAL_FAILURE(AwaitLogsTrimmed({0, 1}));
  ASSERT_EVENTUALLY([&] { ASSERT_GT(absl::Now(), deleted_at + absl::Seconds(4)); },
                    absl::Seconds(10));
  ASSERT_OK(cluster_->Heal());
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, "later"), "v"); }, absl::Seconds(30));
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, "doomed"), "<not found>"); },
                    absl::Seconds(30));
  for (int c = 0; c < 2; ++c) EXPECT_EQ(Get(c, ns, "doomed"), "<not found>") << c + 1;
}

// Issue 9: cut one central off from its peers (not from its edge) and keep
// writing through the others: the edge never serves a value older than its
// window, and at least 99 % of its reads succeed.
// Tombstones are purged only once every central holds them (DESIGN §4.2):
// each central's purge horizon (the time before which every central holds
// every write, from its own streams and what its peers advertise in their
// heartbeats) advances while all are connected, stops while one central is
// cut off, on the majority side too, and advances again after the heal.
TEST_F(PartitionTest, TombstonePurgeHorizonWaitsForEveryCentral) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "purge-horizon");
  ASSERT_OK(ToAbslStatus(Put(0, ns, "k", "v")));
  // The horizon's time at central `i`: its scrape time minus its age.
  auto horizon = [&](int i) -> absl::StatusOr<absl::Time> {
    const absl::Time now = absl::Now();
    absl::StatusOr<double> age =
        cluster_->central(i).Metric("kv_tombstone_purge_horizon_age_seconds");
    if (!age.ok()) return age.status();
    if (*age < 0) return absl::FailedPreconditionError("no horizon yet");
    return now - absl::Seconds(*age);
  };
  for (int i = 0; i < 3; ++i) {
    ASSERT_EVENTUALLY([&] { ASSERT_OK(horizon(i).status()) << "central " << i; });
  }
  ASSERT_OK_AND_ASSIGN(const absl::Time before, horizon(0));
  ASSERT_EVENTUALLY([&] {
    ASSERT_OK_AND_ASSIGN(absl::Time h, horizon(0));
    ASSERT_GT(h, before + absl::Seconds(1)) << "the horizon does not advance";
  });

  ASSERT_OK(cluster_->Isolate(2));
  ASSERT_OK(ToAbslStatus(Put(0, ns, "k", "during")));
  // Once central 0 notices, its horizon stays put while central 2 is away:
  // it no longer moves by a second over several seconds of wall time.
  absl::Time pinned;
  ASSERT_EVENTUALLY(
      [&] {
        ASSERT_OK_AND_ASSIGN(pinned, horizon(0));
        const absl::Time wall = absl::Now();
        ASSERT_EVENTUALLY([&] { ASSERT_GT(absl::Now(), wall + absl::Seconds(3)); });
        ASSERT_OK_AND_ASSIGN(absl::Time later, horizon(0));
        ASSERT_LT(later, pinned + absl::Seconds(1))
            << "central 0's horizon advances though central 2 is cut off";
      },
      absl::Seconds(30));

  ASSERT_OK(cluster_->Heal());
  ASSERT_EVENTUALLY(
      [&] {
        ASSERT_OK_AND_ASSIGN(absl::Time h, horizon(0));
        ASSERT_GT(h, pinned + absl::Seconds(2)) << "the horizon did not resume after the heal";
      },
      absl::Seconds(30));
}

TEST_F(PartitionTest, EdgeOfCutOffCentralStaysWithinWindow) {
  constexpr absl::Duration kWindow = absl::Seconds(3);
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--window=3s"}));
  const std::string ns = CreateNamespace(0, "window");
  std::vector<std::string> addrs = cluster_->grpc_addrs();
  ASSERT_OK_AND_ASSIGN(  // prefers the central we cut off
      std::unique_ptr<EdgeProcess> edge,
      StartEdge({"--window=3s", "--rpc_timeout=1s", "--stream_silence_timeout=1s"},
                {addrs[2], addrs[0], addrs[1]}));
  constexpr int kKeys = 10;
  // ack_time[key][n]: when value n of the key was acknowledged.
  absl::Mutex mu;
  std::map<int, std::vector<absl::Time>> ack_time;
  for (int k = 0; k < kKeys; ++k) {
    ASSERT_OK(ToAbslStatus(Put(0, ns, absl::StrCat("k", k), "0")));
    ack_time[k].push_back(absl::Now());
  }
  // The central to be cut off holds the keys first (the quorum needs only
  // one peer's ack; the other peer gets writes a few ms later).
  for (int k = 0; k < kKeys; ++k) {
    ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, absl::StrCat("k", k)), "0"); });
  }
  ASSERT_OK(cluster_->WaitConnected());
  ASSERT_OK(cluster_->Isolate(2));
  absl::Notification stop;
  std::thread writer([&] {
    auto stub = Stub(0);
    for (int n = 1; !stop.HasBeenNotified(); ++n) {
      for (int k = 0; k < kKeys && !stop.HasBeenNotified(); ++k) {
        kv::v1::PutRequest request;
        request.set_namespace_id(ns);
        request.set_key(absl::StrCat("k", k));
        request.set_value(absl::StrCat(n));
        kv::v1::PutResponse response;
        if (!stub->Put(NewClientContext("").get(), request, &response).ok()) continue;
        absl::MutexLock lock(&mu);
        ack_time[k].resize(n + 1, absl::InfiniteFuture());
        ack_time[k][n] = absl::Now();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  auto edge_stub = kv::v1::Kv::NewStub(NewKvChannel(edge->grpc_addr()));
  int reads = 0, failed = 0, too_old = 0;
  absl::Duration worst = absl::ZeroDuration();
  const absl::Time end = absl::Now() + absl::Seconds(8);
  while (absl::Now() < end) {
    for (int k = 0; k < kKeys; ++k) {
      kv::v1::GetRequest request;
      request.set_namespace_id(ns);
      request.add_keys(absl::StrCat("k", k));
      kv::v1::GetResponse response;
      const absl::Time asked = absl::Now();
      grpc::Status status = edge_stub->Get(NewClientContext("", absl::Seconds(5)).get(), request,
                                           &response);
      ++reads;
      if (!status.ok() || response.entries_size() != 1 || !response.entries(0).found()) {
        ++failed;
        continue;
      }
      int n = 0;
      ASSERT_TRUE(absl::SimpleAtoi(response.entries(0).value(), &n));
      absl::MutexLock lock(&mu);
      // The value is stale by how long its successor had been acknowledged
      // when the read was sent.
      if (n + 1 < static_cast<int>(ack_time[k].size()) && ack_time[k][n + 1] < asked) {
        const absl::Duration staleness = asked - ack_time[k][n + 1];
        worst = std::max(worst, staleness);
        if (staleness > kWindow) ++too_old;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop.Notify();
  writer.join();
  printf("edge of a cut-off central: %d reads, %d failed (%.2f%% succeeded), %d older than the "
         "window, worst staleness %s\n",
         reads, failed, 100.0 * (reads - failed) / reads, too_old,
         absl::FormatDuration(absl::Trunc(worst, absl::Milliseconds(1))).c_str());
  EXPECT_EQ(too_old, 0);
  EXPECT_GE(reads - failed, reads * 99 / 100);
}

}  // namespace
}  // namespace kv::testing
