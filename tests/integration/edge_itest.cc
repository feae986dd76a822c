// Multi-process tests of kv-edge against real kv-central processes
// (DESIGN §4.3, §5): propagation of updates and creations to edges that
// cached a key, read-your-writes through an edge, the window as a hard
// staleness bound while the central is paused (and stream fail-over to a
// second central), resume without flush across a central restart and a
// flush on a new incarnation, and the cache's byte bound.
//
// Every wait is a condition polled with a deadline; the numbers worth
// watching (propagation p50/p99, time to visibility, cache fill, RSS) are
// printed and recorded as test properties.
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/version.h"
#include "tests/harness/edge_process.h"
#include "tests/harness/eventually.h"
#include "tests/harness/metrics_scraper.h"
#include "tests/integration/itest_util.h"

namespace kv::testing {
namespace {

// The kv-edge binary under test, unless the environment names another.
const bool kEdgeBinarySet = [] {
  setenv("KV_EDGE_BIN", KV_EDGE_BIN_DEFAULT, /*overwrite=*/0);
  return true;
}();

using ::testing::HasSubstr;
using ::testing::Not;

// What one read of one key through a node returned.
struct ReadResult {
  grpc::Status status;
  bool found = false;
  std::string value;
  std::string cache_status;  // "HIT", "MISS", "REVALIDATED"; empty at a central
  kv::v1::Version version;

  bool ok() const { return status.ok(); }
  bool Is(absl::string_view cache, absl::string_view v) const {
    return ok() && found && cache_status == cache && value == v;
  }
  // "HIT v1", "MISS <not found>", "<UNAVAILABLE: ...>": for failure messages.
  std::string ToString() const {
    if (!ok()) return absl::StrCat("<", ToAbslStatus(status).ToString(), ">");
    return absl::StrCat(cache_status, " ", found ? value.substr(0, 40) : "<not found>");
  }
};

// The q-quantile of `values` (nearest rank); NaN when empty.
double Percentile(std::vector<double> values, double q) {
  if (values.empty()) return std::nan("");
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

class EdgeTest : public CentralFixture {
 protected:
  void TearDown() override {
    if (HasFailure()) {
      for (const auto& edge : edges_) {
        std::cerr << "kv-edge log tail (" << edge->log_path() << "):\n" << edge->LogTail(40);
      }
      for (const auto& central : other_centrals_) {
        std::cerr << "kv-central log tail (" << central->log_path() << "):\n"
                  << central->LogTail(40);
      }
    }
    edges_.clear();
    other_centrals_.clear();
    CentralFixture::TearDown();
  }

  // Starts the fixture's central with a fast heartbeat (so edges prove
  // freshness quickly) plus `flags`.
  void StartFastCentral(std::vector<std::string> flags = {}, bool keep_port = false) {
    CentralProcessOptions options;
    options.extra_flags = {absl::StrCat("--heartbeat_interval=", absl::FormatDuration(kHeartbeat))};
    options.extra_flags.insert(options.extra_flags.end(), flags.begin(), flags.end());
    options.keep_port = keep_port;
    StartCentral(std::move(options));
  }

  // A second, independent central (its own data and node id).
  absl::StatusOr<CentralProcess*> StartOtherCentral(int node_id) {
    CentralProcessOptions options;
    options.node_id = node_id;
    options.extra_flags = {absl::StrCat("--heartbeat_interval=", absl::FormatDuration(kHeartbeat))};
    absl::StatusOr<std::unique_ptr<CentralProcess>> central =
        CentralProcess::Start(dir_->Path(absl::StrCat("central-", node_id)), std::move(options));
    if (!central.ok()) return central.status();
    other_centrals_.push_back(std::move(*central));
    return other_centrals_.back().get();
  }

  // Starts an edge on `centrals` (default: the fixture's central).
  absl::StatusOr<EdgeProcess*> StartEdge(std::vector<std::string> flags = {},
                                         std::vector<std::string> centrals = {}) {
    EdgeProcessOptions options;
    options.centrals =
        centrals.empty() ? std::vector<std::string>{central_->grpc_addr()} : std::move(centrals);
    options.edge_id = absl::StrCat("edge-", edges_.size() + 1);
    options.extra_flags = std::move(flags);
    const std::string work_dir = dir_->Path(options.edge_id);
    absl::StatusOr<std::unique_ptr<EdgeProcess>> edge =
        EdgeProcess::Start(work_dir, std::move(options));
    if (!edge.ok()) return edge.status();
    edges_.push_back(std::move(*edge));
    return edges_.back().get();
  }

  // Waits until `edge` streams from a central and has heard a heartbeat
  // proving its cache fresh (staleness below `window`), so cached reads
  // are HITs. Call with ASSERT_NO_FATAL_FAILURE.
  void WaitFresh(const EdgeProcess& edge, absl::Duration window = absl::Seconds(60),
                 absl::Duration timeout = absl::Seconds(15)) {
    ASSERT_EVENTUALLY(
        [&] {
          ASSERT_OK_AND_ASSIGN(MetricsSnapshot m, edge.Metrics());
          ASSERT_OK_AND_ASSIGN(double connected, m.Value("kv_stream_connected"));
          ASSERT_EQ(connected, 1) << edge.options().edge_id;
          ASSERT_OK_AND_ASSIGN(double staleness, m.Value("kv_stream_staleness_seconds"));
          // -1 means no proof; exactly 0 is the gauge's value before the
          // edge's first update (a measured staleness is never exactly 0).
          ASSERT_GT(staleness, 0) << edge.options().edge_id << ": no heartbeat proof yet";
          ASSERT_LT(staleness, absl::ToDoubleSeconds(window)) << edge.options().edge_id;
        },
        timeout);
  }

  ReadResult ReadVia(kv::v1::Kv::Stub& stub, const std::string& ns, const std::string& key,
                     absl::Duration timeout = absl::Seconds(10)) {
    kv::v1::GetRequest request;
    request.set_account_id(account_);
    request.set_namespace_id(ns);
    request.add_keys(key);
    kv::v1::GetResponse response;
    ReadResult result;
    result.status = stub.Get(Context(timeout).get(), request, &response);
    if (!result.status.ok()) return result;
    if (response.entries_size() != 1) {
      result.status = grpc::Status(grpc::StatusCode::INTERNAL,
                                   absl::StrCat(response.entries_size(), " entries for one key"));
      return result;
    }
    const kv::v1::Entry& e = response.entries(0);
    result.found = e.found();
    result.value = e.value();
    result.version = e.version();
    result.cache_status = response.cache_status();
    return result;
  }

  // Success when a read of `key` through `stub` answers `value` with
  // `cache_status`; else what it answered.
  ::testing::AssertionResult ReadIs(kv::v1::Kv::Stub& stub, const std::string& ns,
                                    const std::string& key, absl::string_view cache_status,
                                    absl::string_view value) {
    const ReadResult r = ReadVia(stub, ns, key);
    if (r.Is(cache_status, value)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "read of \"" << key << "\" answered " << r.ToString()
                                         << ", expected " << cache_status << " " << value;
  }

  grpc::Status PutVia(kv::v1::Kv::Stub& stub, const std::string& ns, const std::string& key,
                      const std::string& value, kv::v1::PutResponse* response) {
    kv::v1::PutRequest request;
    request.set_account_id(account_);
    request.set_namespace_id(ns);
    request.set_key(key);
    request.set_value(value);
    return stub.Put(Context().get(), request, response);
  }

  grpc::Status DeleteVia(kv::v1::Kv::Stub& stub, const std::string& ns, const std::string& key,
                         kv::v1::DeleteResponse* response) {
    kv::v1::DeleteRequest request;
    request.set_account_id(account_);
    request.set_namespace_id(ns);
    request.set_key(key);
    return stub.Delete(Context().get(), request, response);
  }

  // Prints and records a number.
  void Report(const std::string& name, double value, const std::string& unit = "") {
    std::cout << "[edge-itest] " << name << " = " << value << unit << std::endl;
    RecordProperty(name, absl::StrFormat("%g%s", value, unit));
  }

  static constexpr absl::Duration kHeartbeat = absl::Milliseconds(200);
  // Between reads of the polling loops that watch an edge for seconds: a
  // few hundred samples a second, without taking a core from the nodes.
  static constexpr absl::Duration kReadPacing = absl::Milliseconds(5);

  std::vector<std::unique_ptr<EdgeProcess>> edges_;
  std::vector<std::unique_ptr<CentralProcess>> other_centrals_;
};

// (a) A put at the central reaches three edges that had the key cached.
TEST_F(EdgeTest, PutAtCentralReachesEdgesThatCachedTheKey) {
  ASSERT_NO_FATAL_FAILURE(StartFastCentral());
  const std::string ns = MustCreateNamespace("edge-propagation");
  ASSERT_OK(Put(ns, "hot", "v0"));

  constexpr int kEdges = 3;
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs;
  for (int i = 0; i < kEdges; ++i) {
    ASSERT_OK_AND_ASSIGN(EdgeProcess * edge, StartEdge());
    stubs.push_back(edge->NewStub());
  }
  for (int i = 0; i < kEdges; ++i) {
    ASSERT_NO_FATAL_FAILURE(WaitFresh(*edges_[i]));
    const ReadResult first = ReadVia(*stubs[i], ns, "hot");
    EXPECT_TRUE(first.Is("MISS", "v0")) << "edge " << i << ": " << first.ToString();
    const ReadResult second = ReadVia(*stubs[i], ns, "hot");
    ASSERT_TRUE(second.Is("HIT", "v0")) << "edge " << i << ": " << second.ToString();
  }

  std::vector<std::vector<HistogramBucket>> before(kEdges);
  std::vector<double> count_before(kEdges);
  for (int i = 0; i < kEdges; ++i) {
    ASSERT_OK_AND_ASSIGN(MetricsSnapshot m, edges_[i]->Metrics());
    ASSERT_OK_AND_ASSIGN(before[i], m.Histogram("kv_propagation_latency_seconds"));
    ASSERT_OK_AND_ASSIGN(count_before[i], m.Value("kv_propagation_latency_seconds_count"));
  }

  // Several updates, each waited for at every edge; the time until an edge
  // first answers the new value is measured here (an upper bound: polling
  // backs off from 1 ms).
  constexpr int kRounds = 20;
  std::vector<double> seen_ms;
  std::vector<std::string> first_status;
  for (int round = 1; round <= kRounds; ++round) {
    const std::string value = absl::StrCat("v", round);
    const absl::Time put_at = absl::Now();
    ASSERT_OK(Put(ns, "hot", value));
    std::vector<bool> seen(kEdges, false);
    ASSERT_EVENTUALLY(
        [&] {
          for (int i = 0; i < kEdges; ++i) {
            if (seen[i]) continue;
            const ReadResult r = ReadVia(*stubs[i], ns, "hot");
            ASSERT_OK(r.status) << "edge " << i;
            ASSERT_TRUE(r.found) << "edge " << i << ": " << r.ToString();
            ASSERT_EQ(r.value, value) << "edge " << i << " in round " << round;
            seen[i] = true;
            seen_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - put_at));
            first_status.push_back(r.cache_status);
          }
        },
        absl::Seconds(10));
  }

  std::vector<HistogramBucket> total;
  for (int i = 0; i < kEdges; ++i) {
    ASSERT_OK_AND_ASSIGN(MetricsSnapshot m, edges_[i]->Metrics());
    ASSERT_OK_AND_ASSIGN(std::vector<HistogramBucket> after,
                         m.Histogram("kv_propagation_latency_seconds"));
    const std::vector<HistogramBucket> delta = HistogramDelta(before[i], after);
    ASSERT_OK_AND_ASSIGN(double count, m.Value("kv_propagation_latency_seconds_count"));
    // Every put is one live event on each edge's stream.
    EXPECT_GE(count - count_before[i], kRounds)
        << "edge " << i << ": kv_propagation_latency_seconds_count did not grow by the " << kRounds
        << " live events";
    EXPECT_EQ(HistogramCount(delta), count - count_before[i]) << "edge " << i;
    if (total.empty()) {
      total = delta;
    } else {
      for (size_t b = 0; b < total.size() && b < delta.size(); ++b) {
        total[b].cumulative_count += delta[b].cumulative_count;
      }
    }
  }
  const int refreshed_in_place =
      static_cast<int>(std::count(first_status.begin(), first_status.end(), "HIT"));
  Report("propagation_events", HistogramCount(total));
  Report("propagation_p50_histogram_ms", 1000 * HistogramQuantile(total, 0.50), " ms");
  Report("propagation_p99_histogram_ms", 1000 * HistogramQuantile(total, 0.99), " ms");
  Report("visible_at_edge_p50_measured_ms", Percentile(seen_ms, 0.50), " ms");
  Report("visible_at_edge_p99_measured_ms", Percentile(seen_ms, 0.99), " ms");
  Report("new_value_first_read_as_hit", refreshed_in_place);
  Report("new_value_first_reads", static_cast<double>(first_status.size()));
  // The histogram covers central commit → applied at the edge; far above a
  // second on loopback would mean events wait for something (a heartbeat,
  // a batch timer) instead of flowing.
  EXPECT_LT(HistogramQuantile(total, 0.99), 1.0);
}

// (b) A key read at the edges while missing ("not found" cached), then
// created at the central, is visible at every edge well within the window.
TEST_F(EdgeTest, NotFoundCachedAtEdgesIsReplacedWhenTheKeyIsCreated) {
  ASSERT_NO_FATAL_FAILURE(StartFastCentral());
  const std::string ns = MustCreateNamespace("edge-negative");

  constexpr int kEdges = 3;
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs;
  for (int i = 0; i < kEdges; ++i) {
    ASSERT_OK_AND_ASSIGN(EdgeProcess * edge, StartEdge());
    stubs.push_back(edge->NewStub());
  }
  for (int i = 0; i < kEdges; ++i) {
    ASSERT_NO_FATAL_FAILURE(WaitFresh(*edges_[i]));
    const ReadResult first = ReadVia(*stubs[i], ns, "later");
    ASSERT_OK(first.status) << "edge " << i;
    EXPECT_FALSE(first.found) << "edge " << i << ": " << first.ToString();
    EXPECT_EQ(first.cache_status, "MISS") << "edge " << i;
    const ReadResult second = ReadVia(*stubs[i], ns, "later");
    ASSERT_OK(second.status) << "edge " << i;
    EXPECT_FALSE(second.found) << "edge " << i << ": " << second.ToString();
    ASSERT_EQ(second.cache_status, "HIT") << "edge " << i << ": \"not found\" was not cached";
  }

  const absl::Time put_at = absl::Now();
  ASSERT_OK(Put(ns, "later", "created"));
  std::vector<double> seen_ms(kEdges, -1);
  // The default window is 60 s; a cached "not found" must not live until
  // then: the stream event replaces it in milliseconds.
  ASSERT_EVENTUALLY(
      [&] {
        for (int i = 0; i < kEdges; ++i) {
          if (seen_ms[i] >= 0) continue;
          const ReadResult r = ReadVia(*stubs[i], ns, "later");
          ASSERT_OK(r.status) << "edge " << i;
          ASSERT_TRUE(r.found) << "edge " << i << " still answers " << r.ToString();
          ASSERT_EQ(r.value, "created") << "edge " << i;
          seen_ms[i] = absl::ToDoubleMilliseconds(absl::Now() - put_at);
        }
      },
      absl::Seconds(5));
  Report("created_key_visible_at_all_edges_ms", *std::max_element(seen_ms.begin(), seen_ms.end()),
         " ms");
}

// (c) A client writing through an edge reads its own writes from that edge
// at once, with no wait: put, update, delete; small values (which ride on
// the stream) and large ones (which do not).
TEST_F(EdgeTest, ReadYourWritesThroughTheSameEdge) {
  ASSERT_NO_FATAL_FAILURE(StartFastCentral());
  const std::string ns = MustCreateNamespace("edge-ryw");
  ASSERT_OK_AND_ASSIGN(EdgeProcess * edge, StartEdge());
  std::unique_ptr<kv::v1::Kv::Stub> via = edge->NewStub();
  ASSERT_NO_FATAL_FAILURE(WaitFresh(*edge));

  for (size_t value_bytes : {size_t{16}, size_t{8192}}) {
    for (int round = 0; round < 10; ++round) {
      const std::string key = absl::StrCat("k", value_bytes, "-", round);
      const std::string v1 = absl::StrCat("one-", RandomBytes(value_bytes, round));
      const std::string v2 = absl::StrCat("two-", RandomBytes(value_bytes, round + 1000));
      SCOPED_TRACE(absl::StrCat("key ", key));

      kv::v1::PutResponse put;
      ASSERT_OK(PutVia(*via, ns, key, v1, &put));
      ReadResult r = ReadVia(*via, ns, key);
      ASSERT_OK(r.status);
      ASSERT_TRUE(r.found) << "the edge does not show its own put";
      ASSERT_EQ(r.value, v1);
      EXPECT_EQ(Version::FromProto(r.version).ToString(),
                Version::FromProto(put.version()).ToString());

      ASSERT_OK(PutVia(*via, ns, key, v2, &put));
      r = ReadVia(*via, ns, key);
      ASSERT_OK(r.status);
      ASSERT_TRUE(r.found);
      ASSERT_EQ(r.value, v2) << "the edge shows an older value after its own update";
      EXPECT_EQ(Version::FromProto(r.version).ToString(),
                Version::FromProto(put.version()).ToString());

      kv::v1::DeleteResponse del;
      ASSERT_OK(DeleteVia(*via, ns, key, &del));
      r = ReadVia(*via, ns, key);
      ASSERT_OK(r.status);
      EXPECT_FALSE(r.found) << "the edge still shows a key it deleted: " << r.ToString();
    }
  }
  // Every call was counted in the edge's request metrics (by its server,
  // not an interceptor): 2 sizes x 10 rounds of 2 puts, 3 gets, 1 delete.
  for (const auto& [op, calls] :
       {std::pair<const char*, double>{"put", 40}, {"get", 60}, {"delete", 20}}) {
    ASSERT_OK_AND_ASSIGN(double counted,
                         edge->Metric("kv_requests_total", {{"op", op}, {"code", "OK"}}));
    EXPECT_EQ(counted, calls) << op;
  }
  // And the central agrees.
  EXPECT_EQ(Get(ns, "k16-0"), "<not found>");
}

// (d) The window is a hard bound: with the central paused (SIGSTOP) the
// edge serves its cached copy only while the last heartbeat proves it
// current within --window; after that reads fail with UNAVAILABLE instead
// of returning possibly stale data. The central cannot accept writes while
// paused, so the cached value is known to be unchanged; what is checked is
// when the edge stops vouching for it.
TEST_F(EdgeTest, PausedCentralReadsFailAfterTheWindow) {
  constexpr absl::Duration kWindow = absl::Seconds(3);
  // Reads start at most this late after the edge's last proof before the
  // pause and still succeed: covers loopback delay and scheduling.
  constexpr absl::Duration kSlack = absl::Milliseconds(300);
  ASSERT_NO_FATAL_FAILURE(StartFastCentral());
  const std::string ns = MustCreateNamespace("edge-window");
  ASSERT_OK(Put(ns, "k", "v1"));
  // A short upstream deadline so a refused read answers quickly and the
  // loop below gets several of them.
  ASSERT_OK_AND_ASSIGN(EdgeProcess * edge, StartEdge({"--window=3s", "--rpc_timeout=500ms"}));
  std::unique_ptr<kv::v1::Kv::Stub> via = edge->NewStub();
  ASSERT_NO_FATAL_FAILURE(WaitFresh(*edge, kWindow));
  ASSERT_TRUE(ReadIs(*via, ns, "k", "MISS", "v1"));
  ASSERT_TRUE(ReadIs(*via, ns, "k", "HIT", "v1"));
  ASSERT_OK_AND_ASSIGN(double unavailable_before, edge->Metric("kv_edge_unavailable_reads_total"));

  ASSERT_OK(central_->Pause());
  const absl::Time paused_at = absl::Now();
  int hits = 0;
  int refused = 0;
  absl::Duration last_hit = absl::ZeroDuration();
  absl::Duration first_refusal = absl::InfiniteDuration();
  while (absl::Now() < paused_at + absl::Seconds(6)) {
    const absl::Duration start = absl::Now() - paused_at;
    const ReadResult r = ReadVia(*via, ns, "k", absl::Seconds(5));
    absl::SleepFor(kReadPacing);
    if (r.ok()) {
      ++hits;
      last_hit = start;
      EXPECT_TRUE(r.Is("HIT", "v1")) << "at +" << start << ": " << r.ToString();
      EXPECT_LE(start, kWindow + kSlack)
          << "served " << r.ToString() << " " << start
          << " after the central stopped: the edge's proof is older than the window";
    } else {
      ++refused;
      first_refusal = std::min(first_refusal, start);
      EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE)
          << "at +" << start << ": " << r.ToString();
      // The last heartbeat before the pause is at most one interval old:
      // until the window has nearly run out the cache must serve.
      EXPECT_GE(start, kWindow - kHeartbeat - kSlack)
          << "refused " << start
          << " after the pause, while still within the window: " << r.ToString();
    }
  }
  Report("paused_hits", hits);
  Report("paused_refusals", refused);
  Report("paused_last_hit_s", absl::ToDoubleSeconds(last_hit), " s");
  Report("paused_first_refusal_s", absl::ToDoubleSeconds(first_refusal), " s");
  EXPECT_GT(hits, 0) << "the cached key was never served while the central was paused";
  EXPECT_GT(refused, 0) << "reads never failed although the central was paused for 6 s "
                           "with a 3 s window";
  ASSERT_OK_AND_ASSIGN(double unavailable_after, edge->Metric("kv_edge_unavailable_reads_total"));
  EXPECT_GE(unavailable_after - unavailable_before, refused);

  ASSERT_OK(central_->Resume());
  // Back to normal once the central answers again.
  ASSERT_EVENTUALLY(
      [&] {
        const ReadResult r = ReadVia(*via, ns, "k");
        ASSERT_TRUE(r.Is("HIT", "v1")) << r.ToString();
      },
      absl::Seconds(15));
}

// (d, variant) With a second central in --centrals, the stream fails over
// when the preferred central is paused. The two centrals are independent
// (not replicas), so only the fail-over is checked: the stream is connected
// again and the edge serves the second central's data from its cache; the
// first central's cached key is never served past the window.
TEST_F(EdgeTest, PausedCentralStreamFailsOverToTheNextCentral) {
  constexpr absl::Duration kWindow = absl::Seconds(3);
  constexpr absl::Duration kSlack = absl::Milliseconds(300);
  ASSERT_NO_FATAL_FAILURE(StartFastCentral());
  ASSERT_OK_AND_ASSIGN(CentralProcess * other, StartOtherCentral(2));
  const std::string ns = MustCreateNamespace("edge-failover-a");
  ASSERT_OK(Put(ns, "k", "v1"));
  // A namespace and key that only the second central has.
  std::string other_ns;
  {
    auto other_stub = other->NewStub();
    kv::v1::CreateNamespaceRequest request;
    request.set_account_id(account_);
    request.set_title("edge-failover-b");
    kv::v1::Namespace created;
    ASSERT_OK(other_stub->CreateNamespace(Context().get(), request, &created));
    other_ns = created.id();
    kv::v1::PutResponse put;
    ASSERT_OK(PutVia(*other_stub, other_ns, "kb", "vb", &put));
  }

  ASSERT_OK_AND_ASSIGN(EdgeProcess * edge, StartEdge({"--window=3s", "--rpc_timeout=500ms"},
                                                     {central_->grpc_addr(), other->grpc_addr()}));
  std::unique_ptr<kv::v1::Kv::Stub> via = edge->NewStub();
  ASSERT_NO_FATAL_FAILURE(WaitFresh(*edge, kWindow));
  ASSERT_TRUE(ReadIs(*via, ns, "k", "MISS", "v1"));
  ASSERT_TRUE(ReadIs(*via, ns, "k", "HIT", "v1"));
  ASSERT_OK_AND_ASSIGN(double reconnects_before, edge->Metric("kv_stream_reconnects_total"));

  ASSERT_OK(central_->Pause());
  const absl::Time paused_at = absl::Now();
  // Whether the edge streams again, from another central.
  auto failed_over = [&]() -> absl::Status {
    absl::StatusOr<MetricsSnapshot> m = edge->Metrics();
    if (!m.ok()) return m.status();
    absl::StatusOr<double> connected = m->Value("kv_stream_connected");
    absl::StatusOr<double> reconnects = m->Value("kv_stream_reconnects_total");
    if (!connected.ok()) return connected.status();
    if (!reconnects.ok()) return reconnects.status();
    if (*connected != 1 || *reconnects <= reconnects_before) {
      return absl::UnavailableError(absl::StrCat("kv_stream_connected ", *connected,
                                                 ", kv_stream_reconnects_total ", *reconnects, " (",
                                                 reconnects_before, " before the pause)"));
    }
    return absl::OkStatus();
  };
  int stale_hits = 0;
  std::optional<absl::Duration> failover_after;
  while (absl::Now() < paused_at + absl::Seconds(6)) {
    const absl::Duration start = absl::Now() - paused_at;
    const ReadResult r = ReadVia(*via, ns, "k", absl::Seconds(5));
    // Past the window the first central's value may not come from the
    // cache; what the second central says about a namespace it never had
    // is not checked (no replication yet).
    if (r.Is("HIT", "v1") && start > kWindow + kSlack) ++stale_hits;
    if (!failover_after.has_value() && failed_over().ok()) failover_after = absl::Now() - paused_at;
    absl::SleepFor(kReadPacing);
  }
  EXPECT_EQ(stale_hits, 0) << "the edge served the paused central's key from its cache after "
                              "the window";

  ASSERT_EVENTUALLY(
      [&] {
        ASSERT_OK(failed_over()) << "no stream to the second central";
        if (!failover_after.has_value()) failover_after = absl::Now() - paused_at;
      },
      absl::Seconds(10));
  Report("failover_stream_connected_s_after_pause", absl::ToDoubleSeconds(*failover_after), " s");
  // Reads are served, and from the cache once fetched: the second central's
  // heartbeats keep the edge fresh.
  ASSERT_EVENTUALLY(
      [&] {
        const ReadResult r = ReadVia(*via, other_ns, "kb", absl::Seconds(5));
        ASSERT_TRUE(r.Is("HIT", "vb")) << r.ToString();
      },
      absl::Seconds(10));
  ASSERT_OK(central_->Resume());
}

// (e) A central SIGKILLed and restarted on the same data dir (and port):
// the edge resumes at its position without losing continuity (a cached key
// stays a HIT, later updates arrive). Restarted on a wiped data dir (a new
// log incarnation) the edge cannot prove it missed nothing: it revalidates
// its cache, and the old incarnation's value is dropped (the new central
// does not hold it).
TEST_F(EdgeTest, CentralRestartResumesAndNewIncarnationRevalidates) {
  ASSERT_NO_FATAL_FAILURE(StartFastCentral({}, /*keep_port=*/true));
  const int port = central_->grpc_port();
  const std::string ns = MustCreateNamespace("edge-restart");
  ASSERT_OK(Put(ns, "k", "v1"));
  ASSERT_OK_AND_ASSIGN(EdgeProcess * edge, StartEdge());
  std::unique_ptr<kv::v1::Kv::Stub> via = edge->NewStub();
  ASSERT_NO_FATAL_FAILURE(WaitFresh(*edge));
  ASSERT_TRUE(ReadIs(*via, ns, "k", "MISS", "v1"));
  ASSERT_TRUE(ReadIs(*via, ns, "k", "HIT", "v1"));
  ASSERT_OK_AND_ASSIGN(double lost_before, edge->Metric("kv_stream_continuity_lost_total"));
  ASSERT_OK_AND_ASSIGN(double reconnects_before, edge->Metric("kv_stream_reconnects_total"));

  ASSERT_OK(central_->Kill());
  const absl::Time killed_at = absl::Now();
  ASSERT_OK(central_->StartAgain());
  ASSERT_EQ(central_->grpc_port(), port);
  Reconnect();

  ASSERT_EVENTUALLY(
      [&] {
        ASSERT_OK_AND_ASSIGN(MetricsSnapshot m, edge->Metrics());
        ASSERT_OK_AND_ASSIGN(double reconnects, m.Value("kv_stream_reconnects_total"));
        ASSERT_GT(reconnects, reconnects_before) << "the edge has not re-subscribed";
        ASSERT_OK_AND_ASSIGN(double connected, m.Value("kv_stream_connected"));
        ASSERT_EQ(connected, 1);
      },
      absl::Seconds(15));
  Report("resubscribed_s_after_kill", absl::ToDoubleSeconds(absl::Now() - killed_at), " s");
  // Until the new stream's first heartbeat the edge revalidates (the entry
  // is still there); a MISS would mean the cache lost it.
  std::vector<std::string> seen;
  ASSERT_EVENTUALLY(
      [&] {
        const ReadResult r = ReadVia(*via, ns, "k");
        seen.push_back(r.ToString());
        ASSERT_TRUE(r.Is("HIT", "v1")) << r.ToString();
      },
      absl::Seconds(10));
  for (const std::string& s : seen) {
    EXPECT_THAT(s, Not(HasSubstr("MISS"))) << "the cached key was lost across the restart";
  }
  ASSERT_OK_AND_ASSIGN(double lost_after_restart,
                       edge->Metric("kv_stream_continuity_lost_total"));
  EXPECT_EQ(lost_after_restart, lost_before)
      << "the edge lost continuity although the central's log covers its position";

  ASSERT_OK(Put(ns, "k", "v2"));
  ASSERT_EVENTUALLY(
      [&] {
        const ReadResult r = ReadVia(*via, ns, "k");
        ASSERT_OK(r.status);
        ASSERT_EQ(r.value, "v2") << r.ToString();
      },
      absl::Seconds(10));

  // Same node id and port, wiped data: a new incarnation.
  ASSERT_OK(central_->Kill());
  ASSERT_OK(central_->WipeDataDir());
  ASSERT_OK(central_->StartAgain());
  ASSERT_EQ(central_->grpc_port(), port);
  Reconnect();
  ASSERT_EVENTUALLY(
      [&] {
        ASSERT_OK_AND_ASSIGN(MetricsSnapshot m, edge->Metrics());
        ASSERT_OK_AND_ASSIGN(double lost, m.Value("kv_stream_continuity_lost_total"));
        ASSERT_GT(lost, lost_before) << "continuity not lost after the central's new incarnation";
        ASSERT_OK_AND_ASSIGN(double connected, m.Value("kv_stream_connected"));
        ASSERT_EQ(connected, 1);
        ASSERT_OK_AND_ASSIGN(double dropped, m.Value("kv_cache_bulk_revalidated_total",
                                                     {{"result", "changed"}}));
        ASSERT_GE(dropped, 1) << "the revalidation kept the old incarnation's value";
      },
      absl::Seconds(15));
  // The old incarnation's value is gone from the cache (the new central
  // does not even know the namespace).
  const ReadResult r = ReadVia(*via, ns, "k");
  EXPECT_FALSE(r.ok() && r.cache_status == "HIT") << r.ToString();
}

// (f) --cache_bytes bounds the cache: 39 MiB of distinct keys read through
// an edge with a 4 MiB cache leave it full (>= 99 %) but never over, with
// evictions, and the process's memory stays bounded.
TEST_F(EdgeTest, CacheStaysWithinItsByteBound) {
  constexpr size_t kCacheBytes = size_t{4} << 20;
  // 2 KiB values rather than 10 KiB: each of the 16 shards (256 KiB) is
  // full to within one entry, so the fill is >= 1 - 2.1 KiB / 256 KiB
  // = 99.2 %; with 10 KiB entries it could be as low as 96 %.
  constexpr size_t kValueBytes = 2048;
  constexpr int kKeys = 20000;  // 39 MiB of values
  constexpr int kPerBulk = 5000;
  ASSERT_NO_FATAL_FAILURE(StartFastCentral());
  const std::string ns = MustCreateNamespace("edge-bound");
  ASSERT_OK_AND_ASSIGN(EdgeProcess * edge,
                       StartEdge({absl::StrCat("--cache_bytes=", kCacheBytes)}));
  std::unique_ptr<kv::v1::Kv::Stub> via = edge->NewStub();
  ASSERT_NO_FATAL_FAILURE(WaitFresh(*edge));
  ASSERT_OK_AND_ASSIGN(MemoryUsage idle, ReadMemoryUsage(edge->pid()));

  auto key_of = [](int i) { return absl::StrFormat("key-%06d", i); };
  const std::string filler = RandomBytes(kValueBytes, 42);
  auto value_of = [&](int i) {
    std::string v = filler;
    const std::string tag = absl::StrCat(i, ":");
    v.replace(0, tag.size(), tag);
    return v;
  };
  ASSERT_OK_AND_ASSIGN(double applied_before, edge->Metric("kv_stream_last_applied_sequence"));
  for (int start = 0; start < kKeys; start += kPerBulk) {
    std::vector<std::pair<std::string, std::string>> entries;
    for (int i = start; i < start + kPerBulk; ++i) entries.emplace_back(key_of(i), value_of(i));
    kv::v1::BulkPutResponse response;
    ASSERT_OK(BulkPut(ns, entries, &response));
    ASSERT_EQ(response.successful_key_count(), static_cast<uint32_t>(kPerBulk));
  }

  // Let the stream deliver the puts first: an invalidation that arrives
  // while a fetch of the key is in flight rightly keeps the fetched result
  // out of the cache, and then fewer than all keys would pass through it.
  ASSERT_EVENTUALLY(
      [&] {
        ASSERT_OK_AND_ASSIGN(double applied, edge->Metric("kv_stream_last_applied_sequence"));
        ASSERT_GE(applied, applied_before + kKeys);
      },
      absl::Seconds(20));
  ASSERT_OK_AND_ASSIGN(double misses_before, edge->Metric("kv_cache_misses_total"));

  constexpr int kPerGet = 100;
  const absl::Time read_start = absl::Now();
  for (int start = 0; start < kKeys; start += kPerGet) {
    kv::v1::GetRequest request;
    request.set_account_id(account_);
    request.set_namespace_id(ns);
    for (int i = start; i < start + kPerGet; ++i) request.add_keys(key_of(i));
    kv::v1::GetResponse response;
    ASSERT_OK(via->Get(Context().get(), request, &response)) << "keys from " << start;
    ASSERT_EQ(response.entries_size(), kPerGet);
    for (int j = 0; j < kPerGet; ++j) {
      const kv::v1::Entry& e = response.entries(j);
      ASSERT_TRUE(e.found()) << key_of(start + j);
      ASSERT_TRUE(e.value() == value_of(start + j)) << "wrong value for " << key_of(start + j);
    }
  }
  Report("bound_read_all_s", absl::ToDoubleSeconds(absl::Now() - read_start), " s");

  ASSERT_OK_AND_ASSIGN(MemoryUsage after, ReadMemoryUsage(edge->pid()));
  Report("bound_rss_idle_mib", idle.rss_bytes / 1048576.0, " MiB");
  Report("bound_rss_after_mib", after.rss_bytes / 1048576.0, " MiB");
  Report("bound_peak_rss_mib", after.peak_rss_bytes / 1048576.0, " MiB");
  // Measured (RelWithDebInfo): an idle edge has an RSS of about 19 MiB;
  // after these reads its peak is about 32 MiB: the 4 MiB cache plus
  // transient gRPC buffers (200 KiB responses, 39 MiB of stream events)
  // and malloc arenas. A cache that ignored its bound holds the whole 39 MiB
  // read through it: with --cache_bytes=256MiB the peak is about 64 MiB.
  // The bound: idle + the cache + 20 MiB of headroom (about 43 MiB).
  const int64_t bound = idle.rss_bytes + static_cast<int64_t>(kCacheBytes) + (int64_t{20} << 20);
  Report("bound_peak_rss_limit_mib", bound / 1048576.0, " MiB");
  EXPECT_LT(after.peak_rss_bytes, bound) << "the edge's memory grew with the data read through it";

  // The gauges are refreshed every 250 ms.
  double bytes = 0, capacity = 0, entries = 0, evictions = 0, misses = 0;
  ASSERT_EVENTUALLY(
      [&] {
        ASSERT_OK_AND_ASSIGN(MetricsSnapshot m, edge->Metrics());
        ASSERT_OK_AND_ASSIGN(bytes, m.Value("kv_cache_bytes"));
        ASSERT_OK_AND_ASSIGN(capacity, m.Value("kv_cache_capacity_bytes"));
        ASSERT_OK_AND_ASSIGN(entries, m.Value("kv_cache_entries"));
        ASSERT_OK_AND_ASSIGN(evictions, m.Value("kv_cache_evictions_total"));
        ASSERT_OK_AND_ASSIGN(misses, m.Value("kv_cache_misses_total"));
        ASSERT_EQ(capacity, static_cast<double>(kCacheBytes));
        ASSERT_LE(bytes, capacity);
        ASSERT_GE(bytes, 0.99 * capacity);
        ASSERT_GT(evictions, 0);
        // Every key was a miss that filled the cache, and every entry not
        // left in it was evicted for space (nothing else drops entries
        // here).
        ASSERT_EQ(misses - misses_before, kKeys);
        ASSERT_GE(evictions + entries, kKeys);
      },
      absl::Seconds(5));
  Report("bound_cache_bytes", bytes);
  Report("bound_cache_fill_percent", 100 * bytes / capacity, " %");
  Report("bound_cache_entries", entries);
  Report("bound_cache_evictions", evictions);
  // Entries are about 2.1 KiB, so a full cache holds about 1,900; far more
  // would mean the accounting undercounts.
  EXPECT_LT(entries, static_cast<double>(kCacheBytes) / kValueBytes);
}

}  // namespace
}  // namespace kv::testing
