// An edge that cannot resume its stream keeps its cache (issue 9): it
// revalidates what it holds with a central in batches instead of clearing
// it, and it keeps reading its own recent writes wherever it reads from.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "tests/harness/central_cluster.h"
#include "tests/harness/edge_process.h"
#include "tests/harness/eventually.h"
#include "tests/harness/metrics_scraper.h"
#include "tests/harness/status_matchers.h"
#include "tests/integration/cluster_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kv::testing {
namespace {

using EdgeRevalidationTest = ClusterTest;

struct EdgeRead {
  std::string value;  // "<not found>" or "<error: ...>" too
  std::string cache_status;
};

EdgeRead ReadAt(kv::v1::Kv::Stub& edge, const std::string& ns, const std::string& key) {
  kv::v1::GetRequest request;
  request.set_namespace_id(ns);
  request.add_keys(key);
  kv::v1::GetResponse response;
  grpc::Status status = edge.Get(NewClientContext("").get(), request, &response);
  if (!status.ok()) return {absl::StrCat("<error: ", status.error_message(), ">"), ""};
  return {response.entries(0).found() ? response.entries(0).value() : "<not found>",
          response.cache_status()};
}

double BulkRevalidated(const EdgeProcess& edge, const std::string& result) {
  absl::StatusOr<double> v = edge.Metric("kv_cache_bulk_revalidated_total", {{"result", result}});
  return v.ok() ? *v : -1;
}

// The survivors' change logs keep 1 s (--log_retention), far less than the
// 2.5 s a failover resumes by (max clock offset + write deadline): the new
// central cannot replay what the edge may have missed. The edge marks its
// cache unproven and revalidates it in bulk: keys nobody wrote are served
// from the cache again (a HIT on their first read after the failover, which
// a cleared cache would answer with a MISS), and keys written during the
// failover converge to their last acknowledged values.
TEST_F(EdgeRevalidationTest, FailoverBeyondTheLogRevalidatesInsteadOfClearing) {
  ASSERT_NO_FATAL_FAILURE(StartCluster({"--log_retention=1s", "--trim_interval=100ms"}));
  const std::string ns = CreateNamespace(0, "revalidate");
  constexpr int kCold = 20;
  constexpr int kHot = 20;
  for (int k = 0; k < kCold; ++k) ASSERT_OK(ToAbslStatus(Put(1, ns, absl::StrCat("c", k), "cold")));
  for (int k = 0; k < kHot; ++k) ASSERT_OK(ToAbslStatus(Put(1, ns, absl::StrCat("k", k), "0")));

  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EdgeProcess> edge, StartEdge(FastFailoverEdgeFlags()));
  auto via = kv::v1::Kv::NewStub(NewKvChannel(edge->grpc_addr()));
  // Every key cached and served from the cache.
  for (const char* prefix : {"c", "k"}) {
    for (int k = 0; k < kCold; ++k) {
      const std::string key = absl::StrCat(prefix, k);
      ASSERT_EVENTUALLY([&] {
        const EdgeRead r = ReadAt(*via, ns, key);
        ASSERT_EQ(r.cache_status, "HIT") << key << ": " << r.value;
      });
    }
  }
  ASSERT_OK_AND_ASSIGN(const double lost_before, edge->Metric("kv_stream_continuity_lost_total"));
  ASSERT_EQ(lost_before, 0);
  ASSERT_OK_AND_ASSIGN(const double reconnects_before,
                       edge->Metric("kv_stream_reconnects_total"));

  AckedWriter writer(Stub(1), ns, "k", kHot);
  // The survivors have trimmed their logs (entries older than 1 s are gone).
  ASSERT_EVENTUALLY(
      [&] {
        for (int i : {1, 2}) {
          ASSERT_OK_AND_ASSIGN(double first,
                               cluster_->central(i).Metric("kv_change_log_first_sequence"));
          ASSERT_GT(first, kCold + kHot + 2) << "central " << i << " has not trimmed its log";
        }
      },
      absl::Seconds(20));
  ASSERT_OK(cluster_->central(0).Kill());  // the edge's stream central

  ASSERT_EVENTUALLY(
      [&] {
        ASSERT_OK_AND_ASSIGN(MetricsSnapshot m, edge->Metrics());
        ASSERT_OK_AND_ASSIGN(double reconnects, m.Value("kv_stream_reconnects_total"));
        ASSERT_OK_AND_ASSIGN(double connected, m.Value("kv_stream_connected"));
        ASSERT_OK_AND_ASSIGN(double lost, m.Value("kv_stream_continuity_lost_total"));
        ASSERT_GT(reconnects, reconnects_before);
        ASSERT_EQ(connected, 1);
        ASSERT_GT(lost, lost_before) << "the new central resumed (its log reached back)";
      },
      absl::Seconds(20));
  const int writes_at_failover = writer.writes();
  ASSERT_EVENTUALLY([&] { ASSERT_GE(writer.writes(), writes_at_failover + 2 * kHot); });
  const std::map<int, std::string> expected = writer.Stop();

  // The cold keys were revalidated in bulk (none was read since the kill).
  ASSERT_EVENTUALLY(
      [&] { ASSERT_GE(BulkRevalidated(*edge, "current"), kCold); }, absl::Seconds(20));
  for (int k = 0; k < kCold; ++k) {
    const EdgeRead r = ReadAt(*via, ns, absl::StrCat("c", k));
    EXPECT_EQ(r.value, "cold") << "c" << k;
    EXPECT_EQ(r.cache_status, "HIT")
        << "c" << k << " was not kept across the failover (the cache was cleared?)";
  }
  ASSERT_FALSE(expected.empty());
  for (const auto& [k, value] : expected) {
    ASSERT_EVENTUALLY([&] { ASSERT_EQ(ReadAt(*via, ns, absl::StrCat("k", k)).value, value); });
  }
  ASSERT_OK_AND_ASSIGN(double entries, edge->Metric("kv_cache_entries"));
  EXPECT_GE(entries, kCold);
}

// Read-your-writes after eviction, whichever central answers: a write
// through the edge is acknowledged by centrals 0 and 1 while central 2 is
// cut off from its peers (it keeps the old value). The value is larger than
// the edge's cache, so it is never cached. With central 0 killed, the edge
// reads from central 2 first (its next in --centrals): that answer is older
// than the edge's own write, so the edge asks the others and returns the
// write; it never returns the old value.
TEST_F(EdgeRevalidationTest, OwnWriteIsReadBackAfterEvictionWhicheverCentralAnswers) {
  ASSERT_NO_FATAL_FAILURE(UseProxy());
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const std::string ns = CreateNamespace(0, "own-writes");
  ASSERT_OK(ToAbslStatus(Put(1, ns, "mine", "old")));
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(2, ns, "mine"), "old"); });

  const std::vector<std::string> addrs = cluster_->grpc_addrs();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EdgeProcess> edge,
                       StartEdge({"--cache_bytes=16384", "--cache_shards=1",
                                  "--stream_silence_timeout=1s", "--rpc_timeout=2s"},
                                 {addrs[0], addrs[2], addrs[1]}));
  auto via = kv::v1::Kv::NewStub(NewKvChannel(edge->grpc_addr()));

  ASSERT_OK(cluster_->Isolate(2));
  const std::string mine(20000, 'n');  // larger than the whole cache
  kv::v1::PutRequest put;
  put.set_namespace_id(ns);
  put.set_key("mine");
  put.set_value(mine);
  kv::v1::PutResponse put_response;
  ASSERT_OK(ToAbslStatus(via->Put(NewClientContext("", absl::Seconds(10)).get(), put,
                                  &put_response)));
  ASSERT_OK(cluster_->central(0).Kill());
  ASSERT_EQ(Get(2, ns, "mine"), "old") << "central 2 should not have the write";

  int served = 0;
  for (int i = 0; i < 5; ++i) {
    const EdgeRead r = ReadAt(*via, ns, "mine");
    EXPECT_NE(r.value, "old") << "the edge returned a value older than its own write";
    if (r.value == mine) ++served;
  }
  EXPECT_GT(served, 0) << "central 1 holds the write; the edge should have found it";
  ASSERT_OK(cluster_->Heal());
}

}  // namespace
}  // namespace kv::testing
