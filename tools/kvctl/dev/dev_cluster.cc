#include "tools/kvctl/dev/dev_cluster.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/loopback_http.h"
#include "common/prometheus_text.h"
#include "tools/kvctl/health_check.h"

namespace kv::kvctl {
namespace {

// What `kvctl dev` prints and writes as the token and account: the nodes
// run --dev, which accepts any token (or none) and uses this account when a
// request names none.
constexpr char kDevToken[] = "dev";
constexpr char kDevAccount[] = "devaccount";

std::string HelpText(const std::string& bin) {
  std::string cmd = absl::StrCat("'", bin, "' --helpfull 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

bool HasFlag(const std::string& help, const std::string& flag) {
  return help.find(absl::StrCat("--", flag, " ")) != std::string::npos ||
         help.find(absl::StrCat("-", flag, " (")) != std::string::npos;
}

std::string Quote(const std::string& s) { return absl::StrCat("'", s, "'"); }

// The sum of every sample of `name`, labelled or not.
double SumSamples(const MetricsSnapshot& metrics, absl::string_view name) {
  double sum = 0;
  for (const MetricSample& sample : metrics.samples()) {
    if (sample.name == name) sum += sample.value;
  }
  return sum;
}

int MetricsPort(const NodeProcess& node) {
  int port = 0;
  if (!absl::SimpleAtoi(node.Field("metrics_port"), &port)) return 0;
  return port;
}

}  // namespace

NodeFeatures ProbeFeatures(const std::string& central_bin, const std::string& edge_bin) {
  NodeFeatures f;
  const std::string central = HelpText(central_bin);
  const std::string edge = HelpText(edge_bin);
  f.central_metrics = HasFlag(central, "metrics_addr");
  f.central_http = HasFlag(central, "http_addr");
  f.peers_file = HasFlag(central, "peers_file");
  f.edge_http = HasFlag(edge, "http_addr");
  f.edge_workerd = HasFlag(edge, "workerd_addr");
  return f;
}

DevCluster::DevCluster(DevClusterOptions options) : options_(std::move(options)) {}

DevCluster::~DevCluster() {
  if (!stopped_) (void)Stop();
}

std::string DevCluster::Port(int offset) const {
  return absl::StrCat("127.0.0.1:", options_.base_port == 0 ? 0 : options_.base_port + offset);
}

absl::Status DevCluster::WriteFileAtomically(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << data;
    out.close();
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", tmp, " to ", path));
  }
  return absl::OkStatus();
}

absl::Status DevCluster::Start() {
  std::error_code ec;
  const std::filesystem::path dir(options_.data_dir);
  for (const char* sub : {"logs", "run"}) {
    std::filesystem::create_directories(dir / sub, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("cannot create ", (dir / sub).string(), ": ", ec.message()));
    }
  }
  std::filesystem::remove(cluster_env_path(), ec);
  features_ = ProbeFeatures(options_.central_bin, options_.edge_bin);
  stopped_ = false;
  absl::Status s = StartNodes();
  if (!s.ok()) (void)Stop();
  return s;
}

absl::Status DevCluster::StartNodes() {
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  const std::string dir = options_.data_dir;
  const std::string marker = absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::Now(), absl::LocalTimeZone());
  auto start = [&](const std::string& name, std::vector<std::string> argv)
      -> absl::StatusOr<std::unique_ptr<NodeProcess>> {
    const std::string log = absl::StrCat(dir, "/logs/", name, ".log");
    const std::string ready = absl::StrCat(dir, "/run/", name, ".ready");
    std::error_code ec;
    std::filesystem::remove(ready, ec);
    {
      std::ofstream(log, std::ios::app) << "=== kvctl dev: starting " << name << " at " << marker
                                        << " ===\n";
    }
    argv.push_back(absl::StrCat("--ready_file=", ready));
    return NodeProcess::Start(name, std::move(argv), log, ready);
  };

  // Centrals. With fixed ports every peer address is known up front.
  // A peers file from an earlier run names old ports: the centrals read it
  // at start, so it goes before they start and is written anew below.
  const std::string peers_path = dir + "/peers";
  {
    std::error_code ec;
    std::filesystem::remove(peers_path, ec);
  }
  std::vector<NodeProcess*> started;
  for (int i = 0; i < options_.centrals; ++i) {
    const int id = i + 1;
    std::vector<std::string> argv = {
        options_.central_bin,
        "--dev",
        absl::StrCat("--node_id=", id),
        absl::StrCat("--data_dir=", dir, "/central-", id),
        absl::StrCat("--grpc_addr=", Port(i)),
    };
    if (features_.central_http) argv.push_back(absl::StrCat("--http_addr=", Port(10 + i)));
    if (features_.central_metrics) argv.push_back(absl::StrCat("--metrics_addr=", Port(20 + i)));
    if (features_.peers_file && options_.centrals > 1) {
      argv.push_back(absl::StrCat("--peers_file=", peers_path));
    }
    absl::StatusOr<std::unique_ptr<NodeProcess>> node =
        start(absl::StrCat("central-", id), std::move(argv));
    if (!node.ok()) return node.status();
    centrals_.push_back(*std::move(node));
    started.push_back(centrals_.back().get());
  }
  if (absl::Status s = WaitAllReady(started, deadline); !s.ok()) return s;
  if (features_.peers_file && options_.centrals > 1) {
    std::string peers;
    for (int i = 0; i < options_.centrals; ++i) {
      absl::StrAppend(&peers, i + 1, " ", centrals_[i]->Addr("grpc_port"), "\n");
    }
    if (absl::Status s = WriteFileAtomically(peers_path, peers); !s.ok()) return s;
  }

  // Edges: each prefers a different central, then fails over in order.
  started.clear();
  for (int j = 0; j < options_.edges; ++j) {
    std::vector<std::string> centrals;
    for (int k = 0; k < options_.centrals; ++k) {
      centrals.push_back(centrals_[(j + k) % options_.centrals]->Addr("grpc_port"));
    }
    std::vector<std::string> argv = {
        options_.edge_bin,
        "--dev",
        absl::StrCat("--edge_id=edge-", j + 1),
        absl::StrCat("--centrals=", absl::StrJoin(centrals, ",")),
        absl::StrCat("--grpc_addr=", Port(200 + j)),
        absl::StrCat("--metrics_addr=", Port(230 + j)),
        absl::StrCat("--window=", absl::FormatDuration(options_.window)),
    };
    if (features_.edge_http) argv.push_back(absl::StrCat("--http_addr=", Port(210 + j)));
    if (features_.edge_workerd) argv.push_back(absl::StrCat("--workerd_addr=", Port(220 + j)));
    absl::StatusOr<std::unique_ptr<NodeProcess>> node =
        start(absl::StrCat("edge-", j + 1), std::move(argv));
    if (!node.ok()) return node.status();
    edges_.push_back(*std::move(node));
    started.push_back(edges_.back().get());
  }
  if (absl::Status s = WaitAllReady(started, deadline); !s.ok()) return s;
  if (absl::Status s = WaitAllHealthy(deadline); !s.ok()) return s;
  return WriteFileAtomically(cluster_env_path(), ClusterEnv());
}

absl::Status DevCluster::WaitAllReady(std::vector<NodeProcess*> nodes, absl::Time deadline) {
  while (!nodes.empty()) {
    if (options_.interrupted()) return absl::CancelledError("interrupted");
    for (auto it = nodes.begin(); it != nodes.end();) {
      absl::StatusOr<bool> ready = (*it)->PollReady();
      if (!ready.ok()) return ready.status();
      it = *ready ? nodes.erase(it) : it + 1;
    }
    if (nodes.empty()) break;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          nodes[0]->name(), " wrote no ready file within ",
          absl::FormatDuration(options_.start_timeout), "; see ", nodes[0]->log_path()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::OkStatus();
}

absl::Status DevCluster::WaitAllHealthy(absl::Time deadline) {
  std::vector<NodeProcess*> pending;
  for (auto& n : centrals_) pending.push_back(n.get());
  for (auto& n : edges_) pending.push_back(n.get());
  absl::Status last;
  while (!pending.empty()) {
    if (options_.interrupted()) return absl::CancelledError("interrupted");
    for (auto it = pending.begin(); it != pending.end();) {
      if (std::optional<std::string> exited = (*it)->ExitedUnexpectedly()) {
        return absl::FailedPreconditionError(absl::StrCat((*it)->name(), " exited (", *exited,
                                                          "); its log ", (*it)->log_path(),
                                                          " ends: ", (*it)->LogTail()));
      }
      last = CheckServing((*it)->Addr("grpc_port"), grpc::InsecureChannelCredentials(),
                          absl::Seconds(1));
      if (last.ok()) last = CheckConnected(**it);
      it = last.ok() ? pending.erase(it) : it + 1;
    }
    if (pending.empty()) break;
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(pending[0]->name(), " is not healthy after ",
                       absl::FormatDuration(options_.start_timeout), ": ", last.message(),
                       "; see ", pending[0]->log_path()));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::OkStatus();
}

absl::Status DevCluster::CheckConnected(const NodeProcess& node) const {
  const int port = MetricsPort(node);
  if (port == 0) return absl::OkStatus();  // nothing to ask
  absl::StatusOr<std::string> text = kv::HttpGet(port, "/metrics", absl::Seconds(1));
  if (!text.ok()) return text.status();
  absl::StatusOr<MetricsSnapshot> metrics = MetricsSnapshot::Parse(*text);
  if (!metrics.ok()) return metrics.status();
  const bool is_central = absl::StartsWith(node.name(), "central-");
  if (is_central) {
    if (!features_.peers_file || options_.centrals < 2) return absl::OkStatus();
    const double size = SumSamples(*metrics, "kv_cluster_size");
    const double connected = SumSamples(*metrics, "kv_replication_connected");
    if (size != options_.centrals || connected < options_.centrals - 1) {
      return absl::UnavailableError(absl::StrCat(
          node.name(), " knows ", size, " centrals and replicates from ", connected,
          " peers; waiting for ", options_.centrals, " and ", options_.centrals - 1));
    }
    return absl::OkStatus();
  }
  if (SumSamples(*metrics, "kv_stream_connected") < 1) {
    return absl::UnavailableError(
        absl::StrCat(node.name(), "'s invalidation stream is not connected yet"));
  }
  return absl::OkStatus();
}

absl::Status DevCluster::Stop() {
  if (stopped_) return absl::OkStatus();
  stopped_ = true;
  std::error_code ec;
  std::filesystem::remove(cluster_env_path(), ec);
  absl::Status result;
  for (auto* group : {&edges_, &centrals_}) {
    for (auto& node : *group) node->SendTerm();
    for (auto& node : *group) {
      absl::Status s = node->WaitStopped(absl::Seconds(20));
      if (!s.ok() && result.ok()) result = s;
    }
  }
  return result;
}

std::optional<std::string> DevCluster::CheckNodes() {
  for (auto* group : {&centrals_, &edges_}) {
    for (auto& node : *group) {
      if (std::optional<std::string> exited = node->ExitedUnexpectedly()) {
        return absl::StrCat(node->name(), " exited (", *exited, "); its log ", node->log_path(),
                            " ends: ", node->LogTail());
      }
    }
  }
  return std::nullopt;
}

std::vector<std::string> DevCluster::Urls(const std::vector<std::unique_ptr<NodeProcess>>& nodes,
                                          const std::string& port_key,
                                          const std::string& prefix,
                                          const std::string& suffix) const {
  std::vector<std::string> out;
  for (const auto& n : nodes) {
    const std::string addr = n->Addr(port_key);
    if (!addr.empty()) out.push_back(absl::StrCat(prefix, addr, suffix));
  }
  return out;
}

std::string DevCluster::ClusterEnv() const {
  const auto central_grpc = Urls(centrals_, "grpc_port", "", "");
  const auto central_rest = Urls(centrals_, "http_port", "http://", "/client/v4");
  const auto edge_grpc = Urls(edges_, "grpc_port", "", "");
  const auto edge_rest = Urls(edges_, "http_port", "http://", "/client/v4");
  const auto workerd = Urls(edges_, "workerd_port", "", "");
  auto metrics = Urls(centrals_, "metrics_port", "http://", "/metrics");
  for (auto& m : Urls(edges_, "metrics_port", "http://", "/metrics")) metrics.push_back(m);
  std::vector<std::string> central_pids, edge_pids;
  for (const auto& n : centrals_) central_pids.push_back(absl::StrCat(n->pid()));
  for (const auto& n : edges_) edge_pids.push_back(absl::StrCat(n->pid()));
  std::string out = absl::StrCat(
      "# Written by `kvctl dev` once every node was healthy; removed when it stops.\n"
      "# Use: source ", options_.data_dir, "/cluster.env   (or: kvctl --config ",
      options_.data_dir, "/cluster.env ...)\n");
  auto line = [&](const char* name, const std::string& value) {
    absl::StrAppend(&out, "export ", name, "=", Quote(value), "\n");
  };
  line("KV_GRPC_ADDR", central_grpc.empty() ? "" : central_grpc[0]);
  line("KV_REST_URL", central_rest.empty() ? "" : central_rest[0]);
  line("KV_CENTRAL_GRPC_ADDRS", absl::StrJoin(central_grpc, " "));
  line("KV_CENTRAL_REST_URLS", absl::StrJoin(central_rest, " "));
  line("KV_EDGE_GRPC_ADDRS", absl::StrJoin(edge_grpc, " "));
  line("KV_EDGE_REST_URLS", absl::StrJoin(edge_rest, " "));
  line("KV_WORKERD_URLS", absl::StrJoin(workerd, " "));
  line("KV_METRICS_URLS", absl::StrJoin(metrics, " "));
  line("KV_CENTRAL_PIDS", absl::StrJoin(central_pids, " "));
  line("KV_EDGE_PIDS", absl::StrJoin(edge_pids, " "));
  line("KV_TOKEN", kDevToken);
  line("KV_ACCOUNT", kDevAccount);
  return out;
}

std::string DevCluster::Summary() const {
  std::string out = absl::StrFormat(
      "kvctl dev: %d central(s) and %d edge(s) are healthy (dev mode: open auth on "
      "127.0.0.1, any token accepted)\n",
      options_.centrals, options_.edges);
  auto describe = [&](const NodeProcess& n, bool edge) {
    std::string s = absl::StrFormat("  %-10s gRPC %-16s", n.name(), n.Addr("grpc_port"));
    if (!n.Addr("http_port").empty()) {
      absl::StrAppend(&s, "  REST http://", n.Addr("http_port"), "/client/v4");
    }
    if (edge && !n.Addr("workerd_port").empty()) {
      absl::StrAppend(&s, "  workerd ", n.Addr("workerd_port"));
    }
    if (!n.Addr("metrics_port").empty()) {
      absl::StrAppend(&s, "  metrics http://", n.Addr("metrics_port"), "/metrics");
    }
    absl::StrAppend(&s, "  pid ", n.pid(), "\n");
    return s;
  };
  for (const auto& n : centrals_) absl::StrAppend(&out, describe(*n, false));
  for (const auto& n : edges_) absl::StrAppend(&out, describe(*n, true));
  absl::StrAppend(&out, "  token ", kDevToken, "  account ", kDevAccount, "\n");
  absl::StrAppend(&out, "  data in ", options_.data_dir, ", logs in ", options_.data_dir,
                  "/logs\n");
  absl::StrAppend(&out, "Endpoints as shell variables: source ", cluster_env_path(), "\n");
  return out;
}

}  // namespace kv::kvctl
