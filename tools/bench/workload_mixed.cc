// --workload=mixed: reads and writes at a kv-edge with zipfian key
// popularity (YCSB's theta 0.99, scrambled): --read_ratio of the calls are
// one-key Gets, the rest Puts of --value_size bytes through the edge (which
// forwards them to its central: durable, WAL-synced), --concurrency calls in
// flight on one CQ thread. Setup: a kv-central and a kv-edge (--dev, free
// ports; edge on core 0 and kv-bench on core 1 with --pin), --keys keys
// (default 100,000) written and read once through the edge so the cache is
// warm.
//
// --baseline: redis-server (Debian) on a free port, pinned like the edge,
// with durable writes as ours (appendonly yes, --redis_appendfsync always;
// everysec and no are there to show what durability costs redis), the same
// keys, and the same loop (resp_load.h: same concurrency, ratio and key
// distribution, one client thread); prints kv/redis.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/bench/get_load.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/owned_process.h"
#include "tools/bench/prom_scrape.h"
#include "tools/bench/report.h"
#include "tools/bench/resp_load.h"
#include "tools/bench/workloads.h"
#include "tools/bench/zipfian.h"

namespace kv::bench {
namespace {

void Fail(const absl::Status& s) { std::cerr << "kv-bench: " << s.message() << "\n"; }

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

absl::StatusOr<std::unique_ptr<OwnedProcess>> StartRedis(const Options& o, const Workspace& ws,
                                                         int port, int cpu) {
  ProcessSpec spec;
  spec.name = "redis-server";
  spec.bin = FindInPath(o.redis_server);
  if (spec.bin.empty()) {
    return absl::NotFoundError(absl::StrCat(o.redis_server,
                                            " not found (apt-get install redis-server)"));
  }
  // redis writes its pid file after it listens: the ready signal.
  spec.ready_file = ws.Path("redis.pid");
  spec.log_file = ws.Path("redis.log");
  const std::string dir = ws.Path("redis-data");
  std::filesystem::create_directories(dir);
  spec.args = {"--bind", "127.0.0.1", "--port", absl::StrCat(port), "--save", "",
               "--appendonly", "yes", "--appendfsync", o.redis_appendfsync, "--dir", dir,
               "--pidfile", spec.ready_file, "--daemonize", "no", "--loglevel", "warning"};
  spec.cpu = cpu;
  return OwnedProcess::Start(spec);
}

}  // namespace

int RunMixedWorkload(const Options& o) {
  const int num_keys = o.keys > 0 ? o.keys : 100000;
  const uint64_t cache_bytes = o.cache_bytes > 0 ? o.cache_bytes : uint64_t{256} << 20;
  if (o.read_ratio < 0 || o.read_ratio > 1) {
    std::cerr << "kv-bench: --read_ratio must be in [0, 1]\n";
    return 2;
  }
  auto ws_or = Workspace::Create(o.keep_tmp);
  if (!ws_or.ok()) {
    Fail(ws_or.status());
    return 1;
  }
  const Workspace& ws = **ws_or;
  bool pin = o.pin;
  if (pin) {
    const std::vector<int> cpus = InitialCpus();
    pin = std::find(cpus.begin(), cpus.end(), 0) != cpus.end() &&
          std::find(cpus.begin(), cpus.end(), 1) != cpus.end() && PinSelf(1);
    if (!pin) std::cerr << "kv-bench: cannot pin to cores 0 and 1; running unpinned\n";
  }
  const int server_cpu = pin ? 0 : -1;

  std::unique_ptr<OwnedProcess> central, edge, redis;
  std::string edge_addr = o.addr;
  pid_t edge_pid = -1;
  if (edge_addr.empty()) {
    if (o.central_bin.empty() || o.edge_bin.empty()) {
      std::cerr << "kv-bench: mixed needs --addr (a running edge) or both --central_bin and "
                   "--edge_bin\n";
      return 2;
    }
    auto c = StartCentral(ws, o.central_bin);
    if (!c.ok()) {
      Fail(c.status());
      return 1;
    }
    central = *std::move(c);
    auto e = StartEdge(ws, o.edge_bin, central->LocalAddr("grpc_port"), 0, server_cpu,
                       cache_bytes);
    if (!e.ok()) {
      Fail(e.status());
      return 1;
    }
    edge = *std::move(e);
    edge_addr = edge->LocalAddr("grpc_port");
    edge_pid = edge->pid();
    int metrics_port = 0;
    if (absl::SimpleAtoi(edge->Field("metrics_port"), &metrics_port)) {
      (void)WaitForEdgeStream(metrics_port, absl::Seconds(15));
    }
  }
  PrintContext(o, absl::StrCat("mixed read_ratio=", o.read_ratio, " zipfian",
                               pin ? ", server under test on core 0, load generator on core 1"
                                   : ", unpinned"));
  auto stub = NewStub(edge_addr);
  absl::StatusOr<std::string> ns = CreateNamespace(*stub, o.token);
  if (!ns.ok()) {
    Fail(ns.status());
    return 1;
  }
  const std::vector<std::string> keys = MakeKeys(num_keys, o.key_size);
  if (absl::Status s = LoadKeys(*stub, *ns, keys, o.value_size, o.token); !s.ok()) {
    Fail(s);
    return 1;
  }
  if (absl::Status s = ReadAllOnce(*stub, *ns, keys, o.token); !s.ok()) {
    Fail(s);
    return 1;
  }
  const Zipfian zipf(static_cast<uint64_t>(num_keys));

  int redis_port = 0;
  if (o.baseline) {
    redis_port = FreePort();
    auto r = StartRedis(o, ws, redis_port, server_cpu);
    if (!r.ok()) {
      Fail(r.status());
      return 1;
    }
    redis = *std::move(r);
    if (absl::Status s = RespLoadKeys(redis_port, keys, static_cast<size_t>(o.value_size));
        !s.ok()) {
      Fail(s);
      return 1;
    }
  }

  int rc = 0;
  for (int concurrency : o.concurrency) {
    double baseline_ops = 0;
    if (redis != nullptr) {
      RespLoadConfig rc_config;
      rc_config.name = absl::StrCat("redis mixed (appendfsync ", o.redis_appendfsync, ")");
      rc_config.port = redis_port;
      rc_config.keys = &keys;
      rc_config.concurrency = concurrency;
      rc_config.warmup = o.warmup;
      rc_config.duration = o.duration;
      rc_config.value_size = static_cast<size_t>(o.value_size);
      rc_config.read_ratio = o.read_ratio;
      rc_config.zipf = &zipf;
      rc_config.server_pid = redis->pid();
      rc_config.pinned = pin;
      Result base = RunRespLoad(rc_config);
      base.loadavg_before = o.loadavg_before;
      PrintResult(base, 0, o.json);
      baseline_ops = base.ops_per_sec;
      if (base.errors > 0) rc = 1;
    }
    GetLoadConfig config;
    config.name = "kv-edge mixed";
    config.target = edge_addr;
    config.ns = *ns;
    config.keys = &keys;
    config.concurrency = concurrency;
    config.channels = o.channels;
    config.warmup = o.warmup;
    config.duration = o.duration;
    config.token = o.token;
    config.value_size = static_cast<size_t>(o.value_size);
    config.server_pid = edge_pid;
    config.pinned = pin;
    config.read_ratio = o.read_ratio;
    config.zipf = &zipf;
    Result ours = RunGetLoad(config);
    ours.loadavg_before = o.loadavg_before;
    PrintResult(ours, baseline_ops, o.json);
    if (ours.errors > 0) rc = 1;
  }
  if (!o.addr.empty()) (void)DeleteNamespace(*stub, *ns, o.token);
  return rc;
}

}  // namespace kv::bench
