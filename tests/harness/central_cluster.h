#ifndef KV_TESTS_HARNESS_CENTRAL_CLUSTER_H_
#define KV_TESTS_HARNESS_CENTRAL_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tests/harness/central_process.h"
#include "tests/harness/fault_proxy.h"

namespace kv::testing {

struct CentralClusterOptions {
  // Number of centrals (node ids 1..size). Default: 3.
  int size = 3;
  // What every central starts from (dev mode or tokens, TLS CA, binary);
  // node_id, keep_port and the flags below are set per central.
  CentralProcessOptions node;
  // Applied to every central (e.g. "--anti_entropy_interval=1s").
  std::vector<std::string> extra_flags;
  // Per central (index = node id - 1), after extra_flags; may be shorter.
  std::vector<std::vector<std::string>> node_flags;
  // When set, centrals reach each other through this proxy: one link per
  // ordered pair ("c<i>-c<j>": central i dialing central j), each central
  // with a peers file of its own, so any pair can be partitioned.
  FaultProxy* proxy = nullptr;
};

// Several real kv-central processes replicating to each other on
// 127.0.0.1: each starts on port 0 (keeping it across restarts) with
// --peers_file pointing at `work_dir`/peers, which is written once every
// port is known; each serves /metrics on a port of its own. Node i (1-based)
// lives in `work_dir`/central-i.
// Not thread-safe (one test thread drives it).
class CentralCluster {
 public:
  static absl::StatusOr<std::unique_ptr<CentralCluster>> Start(const std::string& work_dir,
                                                               CentralClusterOptions options = {});

  int size() const { return static_cast<int>(centrals_.size()); }
  // 0-based index: node id index + 1.
  CentralProcess& central(int index) { return *centrals_.at(index); }
  std::vector<std::string> grpc_addrs() const;
  // The path of the peers file every central reads (without a proxy).
  const std::string& peers_file() const { return peers_file_; }

  // With a proxy: cuts central `index` (0-based) off from every other
  // central (blackholes both ways; connections stay open), and heals all.
  absl::Status Isolate(int index);
  // With a proxy: cuts the two links between centrals `a` and `b` only.
  absl::Status CutLink(int a, int b);
  absl::Status Heal();

  // Waits until every running central has an open replication stream from
  // every other running central (kv_replication_connected == 1).
  absl::Status WaitConnected(absl::Duration timeout = absl::Seconds(30));

 private:
  static std::string LinkName(int from, int to);

  std::vector<std::unique_ptr<CentralProcess>> centrals_;
  std::string peers_file_;
  FaultProxy* proxy_ = nullptr;
};

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_CENTRAL_CLUSTER_H_
