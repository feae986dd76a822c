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
  cluster->proxy_ = options.proxy;
  auto peers_file_of = [&](int i) {
    return options.proxy == nullptr ? cluster->peers_file_
                                    : absl::StrCat(work_dir, "/peers-", i + 1);
  };
  if (options.proxy != nullptr) {
    for (int i = 0; i < options.size; ++i) {
      for (int j = 0; j < options.size; ++j) {
        if (i == j) continue;
        absl::StatusOr<int> port = options.proxy->AddLink(LinkName(i, j));
        if (!port.ok()) return port.status();
      }
    }
  }
  for (int i = 0; i < options.size; ++i) {
    CentralProcessOptions node = options.node;
    node.node_id = i + 1;
    node.keep_port = true;
    node.extra_flags.insert(node.extra_flags.end(), options.extra_flags.begin(),
                            options.extra_flags.end());
    node.extra_flags.push_back(absl::StrCat("--peers_file=", peers_file_of(i)));
    node.extra_flags.push_back("--metrics_addr=127.0.0.1:0");
    if (i < static_cast<int>(options.node_flags.size())) {
      for (const std::string& flag : options.node_flags[i]) node.extra_flags.push_back(flag);
    }
    absl::StatusOr<std::unique_ptr<CentralProcess>> central =
        CentralProcess::Start(absl::StrCat(work_dir, "/central-", i + 1), node);
    if (!central.ok()) return central.status();
    cluster->centrals_.push_back(std::move(*central));
  }
  if (options.proxy != nullptr) {
    for (int i = 0; i < options.size; ++i) {
      for (int j = 0; j < options.size; ++j) {
        if (i == j) continue;
        absl::Status s =
            options.proxy->SetTarget(LinkName(i, j), cluster->centrals_[j]->grpc_addr());
        if (!s.ok()) return s;
      }
    }
  }
  // Written whole, then renamed: a central never reads half a file.
  const int files = options.proxy == nullptr ? 1 : options.size;
  for (int f = 0; f < files; ++f) {
    const std::string path = peers_file_of(f);
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp);
      for (int i = 0; i < options.size; ++i) {
        const std::string addr = options.proxy == nullptr || i == f
                                     ? cluster->centrals_[i]->grpc_addr()
                                     : options.proxy->addr(LinkName(f, i));
        out << (i + 1) << " " << addr << "\n";
      }
      if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      return absl::InternalError(absl::StrCat("cannot rename ", tmp));
  }
  return cluster;
}

std::string CentralCluster::LinkName(int from, int to) {
  return absl::StrCat("c", from + 1, "-c", to + 1);
}

absl::Status CentralCluster::Isolate(int index) {
  if (proxy_ == nullptr) return absl::FailedPreconditionError("the cluster has no proxy");
  for (int other = 0; other < size(); ++other) {
    if (other == index) continue;
    for (const std::string& link : {LinkName(index, other), LinkName(other, index)}) {
      absl::Status s = proxy_->SetFaults(link, ProxyFaults::Blackhole());
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CentralCluster::CutLink(int a, int b) {
  if (proxy_ == nullptr) return absl::FailedPreconditionError("the cluster has no proxy");
  for (const std::string& link : {LinkName(a, b), LinkName(b, a)}) {
    absl::Status s = proxy_->SetFaults(link, ProxyFaults::Blackhole());
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CentralCluster::Heal() {
  if (proxy_ == nullptr) return absl::FailedPreconditionError("the cluster has no proxy");
  return proxy_->ClearAll();
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
      absl::StatusOr<MetricsSnapshot> metrics = centrals_[i]->Metrics();
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
