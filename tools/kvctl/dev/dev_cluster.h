#ifndef KV_TOOLS_KVCTL_DEV_DEV_CLUSTER_H_
#define KV_TOOLS_KVCTL_DEV_DEV_CLUSTER_H_

// The local cluster of `kvctl dev`: N kv-central and M kv-edge processes in
// dev mode on 127.0.0.1, data under one directory, started in order and
// stopped in reverse (edges first). Not thread-safe: one thread drives it.
//
// Layout of `data_dir`:
//   central-<id>/   each central's RocksDB (kept across runs)
//   logs/<node>.log each node's output, appended across runs
//   run/<node>.ready ready files of the current run
//   peers           `<node_id> <host:port>` of every central (when the
//                   centrals take --peers_file)
//   cluster.env     the endpoints as shell variables, written once every
//                   node is healthy, removed on a clean stop
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tools/kvctl/dev/node_process.h"

namespace kv::kvctl {

struct DevClusterOptions {
  std::string data_dir;
  std::string central_bin;
  std::string edge_bin;
  // Default: 3 and 2.
  int centrals = 3;
  int edges = 2;
  // The edges' --window. Default: 60 s.
  absl::Duration window = absl::Seconds(60);
  // 0: every port chosen by the OS. Else fixed ports from here (see kvctl
  // --help).
  int base_port = 0;
  // Longest wait for every node to be healthy. Default: 60 s.
  absl::Duration start_timeout = absl::Seconds(60);
  // Polled while starting; true aborts the start (Ctrl-C).
  std::function<bool()> interrupted = [] { return false; };
};

// Which optional flags the binaries take (probed from --helpfull), so the
// launcher works with nodes older or newer than itself.
struct NodeFeatures {
  bool central_metrics = false;  // --metrics_addr
  bool central_http = false;     // --http_addr
  bool peers_file = false;       // --peers_file
  bool edge_http = false;        // --http_addr
  bool edge_workerd = false;     // --workerd_addr
};

class DevCluster {
 public:
  explicit DevCluster(DevClusterOptions options);
  ~DevCluster();  // Stop() if not done

  // Starts every node and waits until all are healthy; writes the peers
  // file and cluster.env. On error the nodes already started are stopped.
  absl::Status Start();
  // SIGTERM to the edges, then the centrals; waits for each. OK when every
  // node exited 0 in time. Removes cluster.env.
  absl::Status Stop();
  // The first node found to have exited on its own, described.
  std::optional<std::string> CheckNodes();

  // What Start printed and wrote.
  std::string Summary() const;
  std::string ClusterEnv() const;
  std::string cluster_env_path() const { return options_.data_dir + "/cluster.env"; }
  const NodeFeatures& features() const { return features_; }

 private:
  absl::Status StartNodes();
  absl::Status WaitAllReady(std::vector<NodeProcess*> nodes, absl::Time deadline);
  // SERVING on the health service, and then, from the node's /metrics:
  // a central knows every peer and replicates from each (with a peers
  // file), an edge's invalidation stream is connected.
  absl::Status WaitAllHealthy(absl::Time deadline);
  absl::Status CheckConnected(const NodeProcess& node) const;
  absl::Status WriteFileAtomically(const std::string& path, const std::string& data);
  std::vector<std::string> Urls(const std::vector<std::unique_ptr<NodeProcess>>& nodes,
                                const std::string& port_key, const std::string& prefix,
                                const std::string& suffix) const;
  std::string Port(int offset) const;

  DevClusterOptions options_;
  NodeFeatures features_;
  std::vector<std::unique_ptr<NodeProcess>> centrals_, edges_;
  bool stopped_ = true;
};

// Probes `bin --helpfull` for the optional flags.
NodeFeatures ProbeFeatures(const std::string& central_bin, const std::string& edge_bin);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_DEV_DEV_CLUSTER_H_
