#ifndef KV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
#define KV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "proto/kv.grpc.pb.h"
#include "absl/status/statusor.h"
#include "tests/harness/central_cluster.h"
#include "tests/harness/edge_process.h"
#include "tests/harness/fault_proxy.h"
#include "tests/harness/temp_dir.h"

namespace kv::testing {

// A client thread writing `<prefix><n % keys>` = "<n>" for n = 1, 2, ...
// through one stub until stopped, remembering the last acknowledged value
// of each key (failed writes are skipped: they are indeterminate).
class AckedWriter {
 public:
  AckedWriter(std::unique_ptr<kv::v1::Kv::Stub> stub, std::string ns, std::string prefix,
              int keys);
  ~AckedWriter() { Stop(); }

  // Writes acknowledged so far.
  int writes() const { return writes_.load(); }
  // Stops and joins; returns key index -> last acknowledged value.
  std::map<int, std::string> Stop();

 private:
  absl::Mutex mu_;
  std::map<int, std::string> last_acked_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> writes_{0};
  absl::Notification stop_;
  std::thread thread_;
};

// A fixture for tests against several replicating kv-central processes
// (dev mode unless a test sets central_options_ and token_): starts them in
// a temp dir, optionally behind a kv-faultproxy, and wraps the client RPCs
// in short helpers addressed by central index (0-based).
class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // Starts 3 centrals with short replication timings plus `flags`; through
  // `proxy_` when UseProxy() was called first. Call with
  // ASSERT_NO_FATAL_FAILURE.
  // `node_flags[i]` go to central i only.
  void StartCluster(std::vector<std::string> flags = {},
                    std::vector<std::vector<std::string>> node_flags = {});
  // Starts a kv-faultproxy for the next StartCluster.
  void UseProxy();

  // Starts an edge (dev mode) streaming from the centrals, in `centrals`'
  // order when given, with `flags`.
  absl::StatusOr<std::unique_ptr<EdgeProcess>> StartEdge(
      std::vector<std::string> flags, std::vector<std::string> centrals = {});
  // An edge that fails over fast, with a 3 s window.
  static std::vector<std::string> FastFailoverEdgeFlags() {
    return {"--window=3s", "--stream_silence_timeout=1s", "--rpc_timeout=2s",
            "--write_deadline=2s"};
  }

  std::unique_ptr<kv::v1::Kv::Stub> Stub(int index);
  // Creates a namespace (failing the test on error) and waits until every
  // running central knows it; returns its id.
  std::string CreateNamespace(int index, const std::string& title);
  grpc::Status Put(int index, const std::string& ns, const std::string& key,
                   const std::string& value, kv::v1::PutResponse* response = nullptr);
  grpc::Status Delete(int index, const std::string& ns, const std::string& key);
  // Waits until each of `centrals` has trimmed its change log up to its
  // last entry (run with a short --log_retention and --trim_interval): a
  // central whose position lies before that can no longer resume its
  // stream from them.
  void AwaitLogsTrimmed(const std::vector<int>& centrals);
  grpc::Status BulkPut(int index, const std::string& ns,
                       const std::vector<std::pair<std::string, std::string>>& entries);
  // The value at central `index`, "<not found>" or "<error: ...>".
  std::string Get(int index, const std::string& ns, const std::string& key);
  // The same through any node's stub (an edge's).
  std::string GetVia(kv::v1::Kv::Stub& stub, const std::string& ns, const std::string& key);

  // What every central of StartCluster starts from: dev mode by default; a
  // test may set tokens and TLS (then Stub() verifies the CA) first.
  CentralProcessOptions central_options_;
  // Sent by the client helpers above; empty in dev mode.
  std::string token_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<CentralCluster> cluster_;
};

}  // namespace kv::testing

#endif  // KV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
