#include "tests/harness/central_cluster.h"

#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tests/harness/metrics_scraper.h"

namespace kv::testing {

absl::StatusOr<std::unique_ptr<CentralCluster>> CentralCluster::Start(
    const std::string& work_dir, CentralClusterOptions options) {
  auto cluster = std::make_unique<CentralCluster>();
  cluster->peers_file_ = absl::StrCat(work_dir, "/peers");
  for (int i = 0; i < options.size; ++i) {
    CentralProcessOptions node;
    node.node_id = i + 1;
    node.keep_port = true;
    node.extra_flags = options.extra_flags;
    node.extra_flags.push_back(absl::StrCat("--peers_file=", cluster->peers_file_));
    node.extra_flags.push_back("--metrics_addr=127.0.0.1:0");
    if (i < static_cast<int>(options.node_flags.size())) {
      for (const std::string& flag : options.node_flags[i]) node.extra_flags.push_back(flag);
    }
    absl::StatusOr<std::unique_ptr<CentralProcess>> central =
        CentralProcess::Start(absl::StrCat(work_dir, "/central-", i + 1), node);
    if (!central.ok()) return central.status();
    cluster->centrals_.push_back(std::move(*central));
  }
  // Written whole, then renamed: a central never reads half a file.
  const std::string tmp = cluster->peers_file_ + ".tmp";
  {
    std::ofstream out(tmp);
    for (int i = 0; i < options.size; ++i)
      out << (i + 1) << " " << cluster->centrals_[i]->grpc_addr() << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), cluster->peers_file_.c_str()) != 0)
    return absl::InternalError(absl::StrCat("cannot rename ", tmp));
  return cluster;
}

std::vector<std::string> CentralCluster::grpc_addrs() const {
  std::vector<std::string> out;
  for (const auto& central : centrals_) out.push_back(central->grpc_addr());
  return out;
}

absl::Status CentralCluster::WaitConnected(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::OkStatus();
  while (true) {
    last = absl::OkStatus();
    for (int i = 0; i < size() && last.ok(); ++i) {
      if (!centrals_[i]->IsRunning()) continue;
      int port = 0;
      auto it = centrals_[i]->ready_info().find("metrics_port");
      if (it == centrals_[i]->ready_info().end() || !absl::SimpleAtoi(it->second, &port)) {
        last = absl::FailedPreconditionError("central without metrics_port in its ready file");
        break;
      }
      absl::StatusOr<MetricsSnapshot> metrics = ScrapeMetrics(port);
      if (!metrics.ok()) {
        last = metrics.status();
        break;
      }
      for (int j = 0; j < size(); ++j) {
        if (j == i || !centrals_[j]->IsRunning()) continue;
        absl::StatusOr<double> connected =
            metrics->Value("kv_replication_connected", {{"peer", absl::StrCat(j + 1)}});
        if (!connected.ok() || *connected != 1) {
          last = absl::UnavailableError(
              absl::StrCat("central ", i + 1, " has no replication stream from ", j + 1));
          break;
        }
      }
    }
    if (last.ok()) return last;
    if (absl::Now() > deadline) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace kv::testing
