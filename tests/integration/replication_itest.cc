// Several centrals (issue 5): writes on any central reach every central,
// a write acknowledged by a quorum survives SIGKILLs, a write short of its
// quorum is refused and repaired later, and an edge fails over.
//
// The kill loop's length: KV_REPL_KILL_CYCLES (default 4 in CI; the long
// form is `KV_REPL_KILL_CYCLES=100 build/tests/integration/kv_integration_test
// --gtest_filter='Replication*Kill*'`).
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/version.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/harness/central_cluster.h"
#include "tests/harness/edge_process.h"
#include "tests/harness/eventually.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/metrics_scraper.h"
#include "tests/harness/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kv::testing {
namespace {

using ::testing::HasSubstr;

int EnvInt(const char* name, int fallback) {
  const char* env = getenv(name);
  int value = fallback;
  if (env != nullptr && (!absl::SimpleAtoi(env, &value) || value < 1)) value = fallback;
  return value;
}

using ReplicationTest = ClusterTest;

TEST_F(ReplicationTest, WritesOnAnyCentralReachEveryCentral) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "replicated");
  ASSERT_FALSE(ns.empty());
  ASSERT_OK(ToAbslStatus(Put(1, ns, "from-2", "two")));
  ASSERT_OK(ToAbslStatus(Put(2, ns, "from-3", std::string(100000, 'x'))));  // a blob value
  ASSERT_OK(ToAbslStatus(Put(0, ns, "gone", "soon")));
  {
    kv::v1::DeleteRequest request;
    request.set_namespace_id(ns);
    request.set_key("gone");
    kv::v1::DeleteResponse response;
    ASSERT_TRUE(Stub(2)->Delete(NewClientContext("").get(), request, &response).ok());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_EVENTUALLY([&] {
      ASSERT_EQ(Get(i, ns, "from-2"), "two") << "central " << i + 1;
      ASSERT_EQ(Get(i, ns, "from-3"), std::string(100000, 'x')) << "central " << i + 1;
      ASSERT_EQ(Get(i, ns, "gone"), "<not found>") << "central " << i + 1;
    });
  }
  // Central 2 counted the put it served, and its quorum waits.
  {
    const CentralProcess& central = cluster_->central(1);
    ASSERT_OK_AND_ASSIGN(double puts,
                         central.Metric("kv_requests_total", {{"op", "put"}, {"code", "OK"}}));
    EXPECT_EQ(puts, 1);
    // Its one put waited for the quorum once, and the wait was timed.
    ASSERT_OK_AND_ASSIGN(double waits, central.Metric("kv_quorum_wait_seconds_count"));
    EXPECT_EQ(waits, 1);
    ASSERT_OK_AND_ASSIGN(double waited, central.Metric("kv_quorum_wait_seconds_sum"));
    EXPECT_GT(waited, 0);
    EXPECT_LT(waited, 5);  // within the write deadline
    // Gauges are refreshed every 250 ms.
    ASSERT_EVENTUALLY([&] {
      ASSERT_OK_AND_ASSIGN(double acked,
                           central.Metric("kv_replication_acked_sequence", {{"peer", "1"}}));
      ASSERT_GE(acked, 1);
    });
  }
  // A namespace rename and delete made on one central reach the others.
  {
    kv::v1::RenameNamespaceRequest request;
    request.set_namespace_id(ns);
    request.set_title("renamed");
    kv::v1::Namespace out;
    ASSERT_TRUE(Stub(1)->RenameNamespace(NewClientContext("").get(), request, &out).ok());
  }
  ASSERT_EVENTUALLY([&] {
    kv::v1::GetNamespaceRequest request;
    request.set_namespace_id(ns);
    kv::v1::Namespace out;
    ASSERT_TRUE(Stub(2)->GetNamespace(NewClientContext("").get(), request, &out).ok());
    ASSERT_EQ(out.title(), "renamed");
  });
  {
    kv::v1::DeleteNamespaceRequest request;
    request.set_namespace_id(ns);
    kv::v1::DeleteNamespaceResponse out;
    ASSERT_TRUE(Stub(0)->DeleteNamespace(NewClientContext("").get(), request, &out).ok());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_EVENTUALLY([&] { ASSERT_THAT(Get(i, ns, "from-2"), HasSubstr("namespace not found")); });
  }
}

// Issue 9: namespace changes go through one coordinator, so a title is
// unique and the per-account limit holds across centrals, and a namespace
// created on any central can be used there at once.
TEST_F(ReplicationTest, NamespaceTitlesAndLimitHoldAcrossCentrals) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--max_namespaces_per_account=3"}));
  for (int round = 0; round < 3; ++round) {
    const std::string title = absl::StrCat("same-title-", round);
    std::atomic<int> created{0}, duplicate{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < 3; ++c) {
      threads.emplace_back([&, c] {
        kv::v1::CreateNamespaceRequest request;
        request.set_title(title);
        kv::v1::Namespace ns;
        grpc::Status status = Stub(c)->CreateNamespace(NewClientContext("").get(), request, &ns);
        if (status.ok()) {
          ++created;
          // Usable at once on the central that created it.
          EXPECT_TRUE(Put(c, ns.id(), "k", "v").ok()) << "central " << c + 1;
        } else if (status.error_message().find("already exists") != std::string::npos) {
          ++duplicate;
        } else {
          ADD_FAILURE() << "central " << c + 1 << ": " << status.error_message();
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(created.load(), 1) << title;
    EXPECT_EQ(duplicate.load(), 2) << title;
  }
  // Three namespaces exist (one per round): the fourth is refused everywhere.
  for (int c = 0; c < 3; ++c) {
    kv::v1::CreateNamespaceRequest request;
    request.set_title(absl::StrCat("one-too-many-", c));
    kv::v1::Namespace ns;
    grpc::Status status = Stub(c)->CreateNamespace(NewClientContext("").get(), request, &ns);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << "central " << c + 1;
  }
}

// DESIGN §4.2: a central whose clock runs ahead of its peers' by more than
// the maximum clock offset refuses client writes (its versions would win
// every conflict), while replication to it goes on.
TEST_F(ReplicationTest, CentralWhoseClockRunsAheadRefusesClientWrites) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({}, {{}, {}, {"--clock_skew_for_testing=3s"}}));
  const std::string ns = CreateNamespace(0, "clocks");
  ASSERT_EVENTUALLY([&] {
    grpc::Status status = Put(2, ns, "k", "from-3");
    ASSERT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    ASSERT_THAT(status.error_message(), HasSubstr("ahead of its peers"));
  });
  ASSERT_OK(ToAbslStatus(Put(0, ns, "k", "from-1")));
  ASSERT_OK(ToAbslStatus(Put(1, ns, "k2", "from-2")));
  ASSERT_EVENTUALLY([&] {
    ASSERT_EQ(Get(2, ns, "k"), "from-1");
    ASSERT_EQ(Get(2, ns, "k2"), "from-2");
  });
  ASSERT_EVENTUALLY([&] {
    ASSERT_OK_AND_ASSIGN(double offset, cluster_->central(0).Metric("kv_peer_clock_offset_seconds",
                                                                    {{"peer", "3"}}));
    ASSERT_GT(offset, 2.5);
  });
}

// A central away for longer than the tombstone grace, whose peers' logs no
// longer reach back to where it left off, repairs by anti-entropy alone; the
// digests normally leave out tombstones past the grace, so without more it
// would keep, and serve, a record deleted while it was away. Its peers kept
// that tombstone (the purge horizon waits for every central), and its
// first round with each peer asks for every tombstone since it last held
// everything: the delete reaches it.
TEST_F(ReplicationTest, CentralAwayLongerThanTheGraceGetsTheDeletesItMissed) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--tombstone_grace=3s", "--log_retention=1s",
                                        "--trim_interval=200ms", "--anti_entropy_interval=1s"}));
  const std::string ns = CreateNamespace(0, "away");
  ASSERT_OK(ToAbslStatus(Put(0, ns, "deleted-while-away", "stale")));
  ASSERT_OK(ToAbslStatus(Put(0, ns, "kept", "v1")));
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, "deleted-while-away"), "stale"); });
  // Central 2 keeps, in its data dir, when it last held every write: once
  // that is past the writes above, it dies.
  const int64_t written_ms = absl::ToUnixMillis(absl::Now());
  ASSERT_EVENTUALLY([&] {
    std::ifstream file(cluster_->central(2).data_dir() + "/holds_all_until");
    int64_t kept_ms = 0;
    ASSERT_TRUE(file >> kept_ms) << "no holds_all_until file yet";
    ASSERT_GT(kept_ms, written_ms);
  });
  ASSERT_OK(cluster_->central(2).Kill());

  ASSERT_OK(ToAbslStatus(Delete(0, ns, "deleted-while-away")));
  const absl::Time deleted_at = absl::Now();
  ASSERT_OK(ToAbslStatus(Put(0, ns, "kept", "v2")));
  ASSERT_EQ(Get(1, ns, "deleted-while-away"), "<not found>");
  // The peers trim their logs (1 s retention) up to their last entry, the
  // write of "kept": central 2 cannot resume its streams past the delete,
  // only anti-entropy can repair it.
  ASSERT_NO_FATAL_FAILURE(AwaitLogsTrimmed({0, 1}));
  // And past the grace (3 s, less its margin): the digests leave the
  // delete out.
  ASSERT_EVENTUALLY([&] { ASSERT_GT(absl::Now(), deleted_at + absl::Seconds(4)); },
                    absl::Seconds(10));

  ASSERT_OK(cluster_->central(2).StartAgain());
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, "kept"), "v2"); }, absl::Seconds(30));
  ASSERT_EVENTUALLY(
      [&] { ASSERT_EQ(Get(2, ns, "deleted-while-away"), "<not found>"); },
      absl::Seconds(30));
}

TEST_F(ReplicationTest, WriteShortOfQuorumIsUnavailableThenRepaired) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "quorum");
  ASSERT_OK(cluster_->central(1).Kill());
  // One peer left: the majority (2 of 3) still holds.
  ASSERT_OK(ToAbslStatus(Put(0, ns, "k1", "with-one-down")));
  ASSERT_OK(cluster_->central(2).Kill());
  ASSERT_OK_AND_ASSIGN(double waits_before,
                       cluster_->central(0).Metric("kv_quorum_wait_seconds_count"));
  grpc::Status status = Put(0, ns, "k2", "alone");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  // Counted as a failure, not as a quorum wait.
  EXPECT_EQ(cluster_->central(0).Metric("kv_quorum_failures_total").value_or(-1), 1);
  EXPECT_EQ(cluster_->central(0).Metric("kv_quorum_wait_seconds_count").value_or(-1), waits_before);
  EXPECT_THAT(status.error_message(), HasSubstr("durable on 1 of 3 centrals"));
  EXPECT_THAT(status.error_message(), HasSubstr("write quorum of 2"));
  // The write stays, and reaches the others when they come back.
  EXPECT_EQ(Get(0, ns, "k2"), "alone");
  ASSERT_OK(cluster_->central(1).StartAgain());
  ASSERT_OK(cluster_->central(2).StartAgain());
  for (int i = 1; i < 3; ++i) {
    ASSERT_EVENTUALLY([&] {
      ASSERT_EQ(Get(i, ns, "k1"), "with-one-down");
      ASSERT_EQ(Get(i, ns, "k2"), "alone");
    });
  }
}

// DESIGN §4.2: a central cut off from every peer for longer than the window
// cannot vouch for its data and refuses reads, until a peer is back.
TEST_F(ReplicationTest, CentralAloneLongerThanWindowRefusesReads) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--window=2s"}));
  const std::string ns = CreateNamespace(0, "alone");
  ASSERT_OK(ToAbslStatus(Put(0, ns, "k", "v")));
  ASSERT_EQ(Get(0, ns, "k"), "v");
  ASSERT_OK(cluster_->central(1).Kill());
  ASSERT_OK(cluster_->central(2).Kill());
  ASSERT_EVENTUALLY([&] { ASSERT_THAT(Get(0, ns, "k"), HasSubstr("cannot vouch for its data")); });
  ASSERT_OK(cluster_->central(1).StartAgain());
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(0, ns, "k"), "v"); });
}

TEST_F(ReplicationTest, RestartWithWipedDataDirRebuildsFromPeers) {
  // A log retention of zero trims every central's log at once, so the wiped
  // central cannot be served from a log and anti-entropy must rebuild it.
  // Pages of 7 keys: the 50 keys of the differing buckets come in pages.
  ASSERT_NO_FATAL_FAILURE(StartCluster(
      {"--log_retention=0s", "--trim_interval=100ms", "--anti_entropy_keys_per_page=7"}));
  const std::string ns = CreateNamespace(0, "rebuild");
  for (int i = 0; i < 50; ++i)
    ASSERT_OK(ToAbslStatus(Put(i % 2, ns, absl::StrCat("key-", i), absl::StrCat("value-", i))));
  ASSERT_OK(cluster_->central(2).Kill());
  ASSERT_OK(cluster_->central(2).WipeDataDir());
  ASSERT_OK(cluster_->central(2).StartAgain());
  // Until anti-entropy has rebuilt it, the central refuses reads; it never
  // answers "not found" for a key it has not received yet.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  int refused = 0;
  while (true) {
    int correct = 0;
    for (int i = 0; i < 50; ++i) {
      const std::string got = Get(2, ns, absl::StrCat("key-", i));
      ASSERT_NE(got, "<not found>") << "key-" << i << " served as missing before the rebuild";
      if (got == absl::StrCat("value-", i)) {
        ++correct;
      } else {
        ASSERT_THAT(got, HasSubstr("cannot vouch"));
        ++refused;
      }
    }
    if (correct == 50) break;
    ASSERT_LT(absl::Now(), deadline) << "not rebuilt: " << correct << " of 50 keys";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  printf("rebuilt from peers; %d reads refused before\n", refused);
  // The rounds' time is counted (the rate of this is their share of time).
  double seconds = 0;
  for (int peer = 1; peer <= 2; ++peer) {  // a series exists once a round has run
    absl::StatusOr<double> s = cluster_->central(2).Metric("kv_anti_entropy_seconds_total",
                                                           {{"peer", absl::StrCat(peer)}});
    if (s.ok()) seconds += *s;
  }
  EXPECT_GT(seconds, 0);
}

// Issue 9: durability proves the disk, not the page cache. With one write in
// flight at a time, each acknowledged write was synced (RocksDB's WAL synced
// counter, read at scrape time) on the accepting central and on at least one
// peer (W = 2) before the answer: after the i-th acknowledgement the peers
// have done at least i syncs between them, the accepting central at least i.
TEST_F(ReplicationTest, EveryAcknowledgedWriteWasSyncedOnAQuorumFirst) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "synced");
  auto wal_syncs = [&](int index) -> double {
    absl::StatusOr<double> value = cluster_->central(index).Metric("kv_rocksdb_wal_synced_total");
    EXPECT_OK(value);
    return value.ok() ? *value : -1;
  };
  // The namespace creation's and a warm-up write's syncs happen first: both
  // peers have applied central 1's whole log before the counts start.
  ASSERT_OK(ToAbslStatus(Put(0, ns, "warmup", "w")));
  ASSERT_OK_AND_ASSIGN(const double head, cluster_->central(0).Metric("kv_change_log_last_sequence"));
  for (int peer = 1; peer <= 2; ++peer) {
    ASSERT_EVENTUALLY([&] {
      ASSERT_OK_AND_ASSIGN(double applied, cluster_->central(peer).Metric(
                                               "kv_replication_applied_sequence", {{"peer", "1"}}));
      ASSERT_GE(applied, head);
    });
  }
  const double base0 = wal_syncs(0), base1 = wal_syncs(1), base2 = wal_syncs(2);
  for (int i = 1; i <= 30; ++i) {
    ASSERT_OK(ToAbslStatus(Put(0, ns, absl::StrCat("k", i), "v")));
    const double own = wal_syncs(0) - base0;
    const double peers = (wal_syncs(1) - base1) + (wal_syncs(2) - base2);
    ASSERT_GE(own, i) << "write " << i << " acknowledged before its local sync";
    ASSERT_GE(peers, i) << "write " << i << " acknowledged before a peer synced it";
  }
}

// (a) of issue 5 and the kill checker of issue 9: 8 writers with unique
// values on random centrals; a random central is SIGKILLed every cycle and,
// while it is down, every write acknowledged before the kill must be
// readable on both survivors; at the end, on every central. UNAVAILABLE and
// timeouts are indeterminate; "latest" is judged by version.
TEST_F(ReplicationTest, KillLoopLosesNoAcknowledgedWrite) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "kills");
  constexpr int kWriters = 8;
  constexpr int kKeys = 200;
  struct Acked {
    Version version;
    std::string value;
  };
  absl::Mutex mu;
  std::map<std::string, Acked> acked;  // key -> the newest acknowledged write
  std::atomic<int> acks{0};
  std::atomic<int> indeterminate{0};
  absl::Notification stop;
  std::vector<std::string> addrs = cluster_->grpc_addrs();
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(static_cast<uint32_t>(w * 7919 + 1));
      std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs;
      for (const std::string& addr : addrs) stubs.push_back(kv::v1::Kv::NewStub(NewKvChannel(addr)));
      for (int n = 0; !stop.HasBeenNotified(); ++n) {
        const std::string key = absl::StrCat("key-", rng() % kKeys);
        const std::string value = absl::StrFormat("w%d-n%d", w, n);
        kv::v1::PutRequest request;
        request.set_namespace_id(ns);
        request.set_key(key);
        request.set_value(value);
        kv::v1::PutResponse response;
        grpc::Status status = stubs[rng() % stubs.size()]->Put(
            NewClientContext("", absl::Seconds(3)).get(), request, &response);
        if (!status.ok()) {
          indeterminate.fetch_add(1);
          continue;
        }
        acks.fetch_add(1);
        const Version version = Version::FromProto(response.version());
        absl::MutexLock lock(&mu);
        auto it = acked.find(key);
        if (it == acked.end() || it->second.version < version) acked[key] = Acked{version, value};
      }
    });
  }
  // Checks that central `index` holds every write in `expected` (or a newer one).
  auto check = [&](int index, const std::map<std::string, Acked>& expected) {
    auto stub = Stub(index);
    for (auto it = expected.begin(); it != expected.end();) {
      kv::v1::GetRequest request;
      request.set_namespace_id(ns);
      std::vector<const std::pair<const std::string, Acked>*> asked;
      for (; it != expected.end() && asked.size() < 100; ++it) {
        request.add_keys(it->first);
        asked.push_back(&*it);
      }
      kv::v1::GetResponse response;
      grpc::Status status = stub->Get(NewClientContext("").get(), request, &response);
      ASSERT_TRUE(status.ok()) << "central " << index + 1 << ": " << status.error_message();
      ASSERT_EQ(response.entries_size(), static_cast<int>(asked.size()));
      for (size_t i = 0; i < asked.size(); ++i) {
        const kv::v1::Entry& entry = response.entries(static_cast<int>(i));
        const Acked& want = asked[i]->second;
        ASSERT_TRUE(entry.found()) << "central " << index + 1 << " lost " << asked[i]->first;
        const Version have = Version::FromProto(entry.version());
        ASSERT_GE(have, want.version) << "central " << index + 1 << " has an older "
                                      << asked[i]->first << ": " << entry.value() << " < "
                                      << want.value;
        if (have == want.version) {
          ASSERT_EQ(entry.value(), want.value);
        }
      }
    }
  };

  const int cycles = EnvInt("KV_REPL_KILL_CYCLES", 4);
  std::mt19937 rng(12345);
  int lost_checks = 0;
  int acks_at_kill = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    // Writes flow on the whole cluster between kills.
    ASSERT_EVENTUALLY([&] { ASSERT_GE(acks.load(), acks_at_kill + 500); }, absl::Seconds(30));
    acks_at_kill = acks.load();
    const int victim = static_cast<int>(rng() % 3);
    ASSERT_OK(cluster_->central(victim).Kill());
    std::map<std::string, Acked> before_kill;
    {
      absl::MutexLock lock(&mu);
      before_kill = acked;
    }
    for (int i = 0; i < 3; ++i) {
      if (i == victim) continue;
      ASSERT_EVENTUALLY([&] { check(i, before_kill); }, absl::Seconds(10));
      ++lost_checks;
    }
    if (rng() % 4 == 0) {
      ASSERT_OK(cluster_->central(victim).WipeDataDir());
    }
    ASSERT_OK(cluster_->central(victim).StartAgain());
    ASSERT_OK(cluster_->WaitConnected());
  }
  stop.Notify();
  for (std::thread& t : writers) t.join();
  std::map<std::string, Acked> final_acked;
  {
    absl::MutexLock lock(&mu);
    final_acked = acked;
  }
  for (int i = 0; i < 3; ++i) ASSERT_EVENTUALLY([&] { check(i, final_acked); }, absl::Seconds(30));
  printf("kill loop: %d cycles, %d acknowledged writes, %d indeterminate, %zu keys checked on "
         "every central, %d survivor checks while a central was down: 0 lost\n",
         cycles, acks.load(), indeterminate.load(), final_acked.size(), lost_checks);
  EXPECT_GT(acks.load(), 0);
}

// (d): an edge streaming from a central that is killed fails over to another
// and still sees updates within its window.
TEST_F(ReplicationTest, EdgeFailsOverFromKilledCentral) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "failover");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EdgeProcess> edge,
                       StartEdge({"--window=3s", "--stream_silence_timeout=1s", "--rpc_timeout=2s"}));
  auto edge_stub = kv::v1::Kv::NewStub(NewKvChannel(edge->grpc_addr()));
  auto edge_get = [&](const std::string& key) {
    kv::v1::GetRequest request;
    request.set_namespace_id(ns);
    request.add_keys(key);
    kv::v1::GetResponse response;
    grpc::Status status = edge_stub->Get(NewClientContext("").get(), request, &response);
    if (!status.ok()) return absl::StrCat("<error: ", status.error_message(), ">");
    return response.entries(0).found() ? response.entries(0).value() : std::string("<not found>");
  };
  ASSERT_OK(ToAbslStatus(Put(1, ns, "k", "v1")));
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(edge_get("k"), "v1"); });
  ASSERT_OK(cluster_->central(0).Kill());  // the edge's preferred central
  const absl::Time updated = absl::Now();
  ASSERT_OK(ToAbslStatus(Put(1, ns, "k", "v2")));
  // Until the window has passed an edge may still serve v1; never after.
  absl::Time last_old = absl::InfinitePast();
  while (absl::Now() < updated + absl::Seconds(6)) {
    const std::string got = edge_get("k");
    if (got == "v1") last_old = absl::Now();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_LT(last_old, updated + absl::Seconds(3)) << "v1 served after the window";
  EXPECT_EQ(edge_get("k"), "v2");
}

// Issue 9: fail an edge over between centrals under write load: it resumes
// by time on the new central (no flush), and every key converges to its last
// acknowledged value (no update missed across the switch).
TEST_F(ReplicationTest, EdgeFailoverUnderWriteLoadResumesByTimeWithoutFlush) {
  const absl::Time cluster_start = absl::Now();
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "failover-load");
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EdgeProcess> edge, StartEdge(FastFailoverEdgeFlags()));
  auto edge_stub = kv::v1::Kv::NewStub(NewKvChannel(edge->grpc_addr()));
  constexpr int kKeys = 40;
  auto edge_get = [&](int k) {
    kv::v1::GetRequest request;
    request.set_namespace_id(ns);
    request.add_keys(absl::StrCat("k", k));
    kv::v1::GetResponse response;
    grpc::Status status = edge_stub->Get(NewClientContext("").get(), request, &response);
    if (!status.ok()) return absl::StrCat("<error: ", status.error_message(), ">");
    return response.entries(0).found() ? response.entries(0).value() : std::string("<not found>");
  };
  for (int k = 0; k < kKeys; ++k) ASSERT_OK(ToAbslStatus(Put(1, ns, absl::StrCat("k", k), "0")));
  for (int k = 0; k < kKeys; ++k) ASSERT_EVENTUALLY([&] { ASSERT_EQ(edge_get(k), "0"); });
  // A heartbeat has proven completeness at the edge before the switch.
  ASSERT_EVENTUALLY([&] {
    ASSERT_OK_AND_ASSIGN(double staleness, edge->Metric("kv_stream_staleness_seconds"));
    ASSERT_LT(staleness, 3);
  });
  ASSERT_OK_AND_ASSIGN(const double reconnects_before, edge->Metric("kv_stream_reconnects_total"));

  AckedWriter writer(Stub(1), ns, "k", kKeys);
  ASSERT_EVENTUALLY([&] { ASSERT_GE(writer.writes(), 2 * kKeys); });  // writes before the kill
  // The edge resumes from its last completeness minus the clock offset and
  // write deadline (2.5 s here): the survivors' logs must reach back that
  // far, as a long-running central's do. Time itself is the condition.
  absl::SleepFor(cluster_start + absl::Seconds(5) - absl::Now());
  ASSERT_OK(cluster_->central(0).Kill());  // the edge's stream central
  const int writes_at_kill = writer.writes();
  // Writes go on across the failover: until the edge streams from another
  // central and more writes were acknowledged after that.
  ASSERT_EVENTUALLY([&] {
    ASSERT_OK_AND_ASSIGN(double reconnects, edge->Metric("kv_stream_reconnects_total"));
    ASSERT_OK_AND_ASSIGN(double connected, edge->Metric("kv_stream_connected"));
    ASSERT_GT(reconnects, reconnects_before);
    ASSERT_EQ(connected, 1);
  });
  const int writes_at_failover = writer.writes();
  ASSERT_EVENTUALLY([&] {
    ASSERT_GE(writer.writes(), writes_at_failover + 2 * kKeys);
    ASSERT_GT(writer.writes(), writes_at_kill);
  });
  const std::map<int, std::string> expected = writer.Stop();
  ASSERT_GT(expected.size(), 0u);
  for (const auto& [k, value] : expected) {
    ASSERT_EVENTUALLY([&] { ASSERT_EQ(edge_get(k), value) << "k" << k; });
  }
  ASSERT_OK_AND_ASSIGN(MetricsSnapshot metrics, edge->Metrics());
  ASSERT_OK_AND_ASSIGN(double lost, metrics.Value("kv_stream_continuity_lost_total"));
  EXPECT_EQ(lost, 0) << "the failover lost continuity (cache revalidated) instead of "
                        "resuming by time";
  ASSERT_OK_AND_ASSIGN(double hits, metrics.Value("kv_cache_hits_total"));
  EXPECT_GT(hits, 0);
}

}  // namespace
}  // namespace kv::testing
