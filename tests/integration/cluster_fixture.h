#ifndef KV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
#define KV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "proto/kv.grpc.pb.h"
#include "tests/harness/central_cluster.h"
#include "tests/harness/fault_proxy.h"
#include "tests/harness/temp_dir.h"

namespace kv::testing {

// A fixture for tests against several replicating kv-central processes (dev
// mode): starts them in a temp dir, optionally behind a kv-faultproxy, and
// wraps the client RPCs in short helpers addressed by central index
// (0-based).
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

  std::unique_ptr<kv::v1::Kv::Stub> Stub(int index);
  // Creates a namespace (failing the test on error); returns its id.
  std::string CreateNamespace(int index, const std::string& title);
  grpc::Status Put(int index, const std::string& ns, const std::string& key,
                   const std::string& value, kv::v1::PutResponse* response = nullptr);
  grpc::Status BulkPut(int index, const std::string& ns,
                       const std::vector<std::pair<std::string, std::string>>& entries);
  // The value at central `index`, "<not found>" or "<error: ...>".
  std::string Get(int index, const std::string& ns, const std::string& key);

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<CentralCluster> cluster_;
};

}  // namespace kv::testing

#endif  // KV_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
