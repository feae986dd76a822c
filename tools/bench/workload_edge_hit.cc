// --workload=edge-hit: gRPC Get of cached keys at a kv-edge, closed loop with
// --concurrency calls in flight (one CQ thread), uniform random keys.
// --workload=edge-miss: the same loop over far more keys (default 100,000)
// than the edge's cache holds (default --cache_bytes 256 KiB), uniformly, so
// nearly every Get is a miss the edge fetches from its central;
// the run fails when more than --max_hit_fraction are hits. --baseline adds,
// besides the bare server, the same loop straight at the central
// ("kv-central get (direct)") for context: a miss costs that plus a hop.
//
// Setup (without --addr): a kv-central (unpinned) and a kv-edge, both --dev
// on free ports; a namespace; --keys keys of --value_size bytes written at
// the central (BulkPut); each key read once through the edge so that all are
// cached. With --pin the edge runs on core 0 and kv-bench (the load
// generator, gRPC's threads included) on core 1, as in
// /work/shared/baselines. --baseline measures a bare kv.v1.Kv server (a
// child `kv-bench --serve_bare`, pinned like the edge) with the same client
// loop, and prints edge/bare.
//
// With --addr (a running edge): keys are written through that edge, whose
// pid (RSS, CPU) is then unknown.
//
// --rounds=N (with --baseline): the edge and the bare server alternate N
// times (RunInterleaved); edge-miss then skips the direct central run.
#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/bench/alternating.h"
#include "tools/bench/bare_server.h"
#include "tools/bench/get_load.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/owned_process.h"
#include "tools/bench/prom_scrape.h"
#include "tools/bench/report.h"
#include "tools/bench/workloads.h"

namespace kv::bench {
namespace {

void Fail(const absl::Status& s) { std::cerr << "kv-bench: " << s.message() << "\n"; }

// --rounds=N with a baseline: the edge and the bare server take turns
// (alternating.h), N times each for --duration/N (after the first round,
// warm-ups of at most 200 ms). Returns the exit code.
int RunInterleaved(const Options& o, GetLoadConfig edge_config, GetLoadConfig bare_config,
                   bool miss) {
  for (GetLoadConfig* c : {&edge_config, &bare_config}) c->duration = o.duration / o.rounds;
  auto run = [&o](GetLoadConfig& config, int round) {
    if (round > 0) config.warmup = std::min(o.warmup, absl::Milliseconds(200));
    Result r = RunGetLoad(config);
    r.loadavg_before = o.loadavg_before;
    return r;
  };
  AlternatingRuns runs;
  runs.rounds = o.rounds;
  runs.ours_name = "edge";
  runs.base_name = "bare";
  runs.run_ours = [&](int round) { return run(edge_config, round); };
  runs.run_base = [&](int round) {
    Result bare = run(bare_config, round);
    bare.hit_fraction = -1;  // a fixed answer: not a cache
    return bare;
  };
  runs.check = [&](const Result& edge, const Result& /*bare*/, int round) {
    if (!miss && edge.hit_fraction < o.min_hit_fraction) {
      std::cerr << absl::StrFormat("kv-bench: round %d: only %.2f%% cache hits\n", round + 1,
                                   100 * edge.hit_fraction);
      return false;
    }
    if (miss && edge.hit_fraction > o.max_hit_fraction) {
      std::cerr << absl::StrFormat("kv-bench: round %d: %.2f%% cache hits: not a miss workload\n",
                                   round + 1, 100 * edge.hit_fraction);
      return false;
    }
    return true;
  };
  return RunAlternating(runs, o.json);
}

}  // namespace

int RunEdgeHitWorkload(const Options& o) {
  const bool miss = o.workload == "edge-miss";
  const int num_keys = o.keys > 0 ? o.keys : (miss ? 100000 : 10000);
  const uint64_t cache_bytes =
      o.cache_bytes > 0 ? o.cache_bytes : (miss ? uint64_t{256} << 10 : uint64_t{256} << 20);
  auto ws_or = Workspace::Create(o.keep_tmp);
  if (!ws_or.ok()) {
    Fail(ws_or.status());
    return 1;
  }
  const Workspace& ws = **ws_or;
  bool pin = o.pin;
  if (pin) {
    const std::vector<int> cpus = InitialCpus();
    const bool have0 = std::find(cpus.begin(), cpus.end(), 0) != cpus.end();
    const bool have1 = std::find(cpus.begin(), cpus.end(), 1) != cpus.end();
    if (!have0 || !have1) {
      std::cerr << "kv-bench: --pin needs cores 0 and 1; running unpinned\n";
      pin = false;
    }
  }
  // Pin before any gRPC channel exists: the threads gRPC creates later
  // inherit this thread's affinity. Children reset theirs (owned_process).
  if (pin && !PinSelf(1)) {
    std::cerr << "kv-bench: cannot pin to core 1; running unpinned\n";
    pin = false;
  }
  const int server_cpu = pin ? 0 : -1;

  std::unique_ptr<OwnedProcess> central, edge, bare;
  std::string edge_addr = o.addr;
  std::string write_addr = o.addr;  // where keys are written
  pid_t edge_pid = -1;
  if (edge_addr.empty()) {
    if (o.central_bin.empty() || o.edge_bin.empty()) {
      std::cerr << "kv-bench: edge-hit needs --addr (a running edge) or both --central_bin "
                   "and --edge_bin\n";
      return 2;
    }
    auto c = StartCentral(ws, o.central_bin);
    if (!c.ok()) {
      Fail(c.status());
      return 1;
    }
    central = *std::move(c);
    write_addr = central->LocalAddr("grpc_port");
    auto e = StartEdge(ws, o.edge_bin, write_addr, 0, server_cpu, cache_bytes);
    if (!e.ok()) {
      Fail(e.status());
      return 1;
    }
    edge = *std::move(e);
    edge_addr = edge->LocalAddr("grpc_port");
    edge_pid = edge->pid();
    int metrics_port = 0;
    if (absl::SimpleAtoi(edge->Field("metrics_port"), &metrics_port) &&
        !WaitForEdgeStream(metrics_port, absl::Seconds(15))) {
      std::cerr << "kv-bench: warning: the edge's invalidation stream did not connect within "
                   "15 s (does this kv-central serve invalidation streams?); reads may not "
                   "be cache hits\n";
    }
  }
  PrintContext(o, absl::StrCat(o.workload, pin ? ", server under test on core 0, load "
                                                    "generator on core 1"
                                                  : ", unpinned"));

  auto writer = NewStub(write_addr);
  absl::StatusOr<std::string> ns = CreateNamespace(*writer, o.token);
  if (!ns.ok()) {
    Fail(ns.status());
    return 1;
  }
  const std::vector<std::string> keys = MakeKeys(num_keys, o.key_size);
  if (absl::Status s = LoadKeys(*writer, *ns, keys, o.value_size, o.token); !s.ok()) {
    Fail(s);
    return 1;
  }
  auto reader = NewStub(edge_addr);
  if (!miss) {
    if (absl::Status s = ReadAllOnce(*reader, *ns, keys, o.token); !s.ok()) {
      Fail(s);
      return 1;
    }
  }

  if (o.baseline) {
    auto b = StartBare(ws, o.self_bin, o.bare_api, o.value_size, server_cpu);
    if (!b.ok()) {
      Fail(b.status());
      return 1;
    }
    bare = *std::move(b);
  }

  int rc = 0;
  for (int concurrency : o.concurrency) {
    GetLoadConfig config;
    config.name = miss ? "kv-edge get (cache miss)" : "kv-edge get (cache hit)";
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
    if (bare != nullptr && o.rounds > 1) {
      GetLoadConfig bare_config = config;
      bare_config.name = absl::StrCat("bare grpc get (", o.bare_api, ")");
      bare_config.target = bare->LocalAddr("grpc_port");
      bare_config.server_pid = bare->pid();
      if (RunInterleaved(o, config, bare_config, miss) != 0) rc = 1;
      continue;
    }
    Result ours = RunGetLoad(config);
    ours.loadavg_before = o.loadavg_before;
    double baseline_ops = 0;
    if (bare != nullptr) {
      config.name = absl::StrCat("bare grpc get (", o.bare_api, ")");
      config.target = bare->LocalAddr("grpc_port");
      config.server_pid = bare->pid();
      Result base = RunGetLoad(config);
      base.loadavg_before = o.loadavg_before;
      base.hit_fraction = -1;  // a fixed answer: not a cache
      PrintResult(base, 0, o.json);
      baseline_ops = base.ops_per_sec;
      if (base.errors > 0) rc = 1;
      if (miss && central != nullptr) {
        config.name = "kv-central get (direct)";
        config.target = write_addr;
        config.server_pid = central->pid();
        config.pinned = false;
        Result direct = RunGetLoad(config);
        direct.loadavg_before = o.loadavg_before;
        direct.hit_fraction = -1;
        PrintResult(direct, baseline_ops, o.json);
        if (direct.errors > 0) rc = 1;
        config.pinned = pin;
      }
    }
    PrintResult(ours, baseline_ops, o.json);
    if (ours.errors > 0) rc = 1;
    if (miss) {
      if (ours.hit_fraction > o.max_hit_fraction) {
        std::cerr << absl::StrFormat(
            "kv-bench: %.2f%% of the edge's answers were cache hits (--max_hit_fraction "
            "%.2f%%): not a miss workload; raise --keys or lower --cache_bytes\n",
            100 * ours.hit_fraction, 100 * o.max_hit_fraction);
        rc = 1;
      }
    } else if (ours.hit_fraction < o.min_hit_fraction) {
      std::cerr << absl::StrFormat(
          "kv-bench: only %.2f%% of the edge's answers were cache hits (--min_hit_fraction "
          "%.2f%%)\n",
          100 * ours.hit_fraction, 100 * o.min_hit_fraction);
      rc = 1;
    }
  }
  if (!o.addr.empty()) (void)DeleteNamespace(*writer, *ns, o.token);
  return rc;
}

}  // namespace kv::bench
