// kv-bench: load generator for the KV store that compares itself with a
// baseline measured in the same run.
//
// Workloads:
//
//   put         durable single-key puts at a kv-central, each writer a closed
//               loop. --baseline: db_bench fillrandom --sync=1 at the same
//               concurrency, key size and value size.
//     kv-bench --workload=put --concurrency=1,4,16 --duration=10s
//              --central_bin=build/central/kv-central --baseline
//
//   edge-hit    gRPC Get of cached keys at a kv-edge: a kv-central and a
//               kv-edge (--dev, free ports), --keys keys written at the
//               central and read once through the edge, then a closed loop of
//               one-key Gets (uniform random keys) with --concurrency calls in
//               flight on one completion-queue thread. Reports throughput,
//               p50/p90/p99/p99.9, errors, the edge's RSS and CPU per call,
//               and the fraction answered cache_status "HIT" (the run fails
//               below --min_hit_fraction). --baseline: a bare kv.v1.Kv server
//               (`kv-bench --serve_bare`, a fixed answer for any key) measured
//               with the same loop; prints edge/bare. --pin (default with >= 2
//               cores): the server under test on core 0, kv-bench on core 1,
//               the central unpinned.
//     kv-bench --workload=edge-hit --central_bin=build/central/kv-central
//              --edge_bin=build/edge/kv-edge --duration=10s --baseline
//
//   propagation 1 central + --edges kv-edges; each edge caches --keys keys;
//               puts at --write_rate per second (paced) to the central,
//               cycling over the keys, for --duration. Reports propagation
//               p50/p99/max from the delta of the edges'
//               kv_propagation_latency_seconds histograms (summed over edges,
//               linear interpolation in buckets; max = upper bound of the
//               highest non-empty bucket), the achieved write rate, events
//               observed, errors. No baseline ("baseline: none").
//     kv-bench --workload=propagation --edges=20 --write_rate=1000
//              --duration=10s --central_bin=build/central/kv-central
//              --edge_bin=build/edge/kv-edge
//
//   edge-miss   as edge-hit over --keys (default 100,000) keys with a 256 KiB
//               edge cache, uniformly: nearly all misses (fails above
//               --max_hit_fraction). --baseline: bare server; also the central
//               read directly.
//
//   mixed       zipfian (theta 0.99) one-key Gets and, 1 - --read_ratio of the
//               time, Puts through an edge. --baseline: redis-server with
//               appendfsync always, same loop over RESP (resp_load.h).
//
//   bulk        BulkPut of --batch entries at a central; keys/s. --baseline:
//               db_bench fillrandom --sync=1 --batch_size=--batch.
//
// Common: --json prints one JSON object per result; --plot FILE.png draws
// latency (p50, p99) and throughput over time with gnuplot; a progress line goes to
// stderr when it is a terminal (rewritten in place). Without
// --addr, kv-bench starts and stops its own nodes (by PID) in a temporary
// directory (--keep_tmp keeps it, with the nodes' logs). Text reports start
// with a "#" line giving the load average: figures taken while other work
// runs on the machine are noisy ("other cpu" shows how much ran beside us).
//
// Internal: `kv-bench --serve_bare --ready_file=F [--bare_api=async|sync]
// [--value_size=N]` is the bare server child of edge-hit --baseline.
#include <unistd.h>

#include <climits>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/deadlock_detection.h"
#include "tools/bench/bare_server.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/options.h"
#include "tools/bench/owned_process.h"
#include "tools/bench/plot.h"
#include "tools/bench/workloads.h"

namespace {
bool DefaultPin() { return kv::bench::InitialCpus().size() >= 2; }
}  // namespace

ABSL_FLAG(std::string, workload, "put",
          "put | bulk | edge-hit | edge-miss | mixed | propagation");
ABSL_FLAG(std::string, addr, "",
          "A running node's gRPC address (put: a central; edge-hit: an edge); empty: start "
          "our own.");
ABSL_FLAG(std::string, central_bin, "", "kv-central binary to start when --addr is empty.");
ABSL_FLAG(int, server_pid, -1,
          "put with --addr: the pid of the central at --addr, so that its CPU, context switches "
          "and memory are reported (and not counted as other processes' CPU).");
ABSL_FLAG(std::string, edge_bin, "", "kv-edge binary to start (edge-hit, propagation).");
ABSL_FLAG(std::string, token, "", "Bearer token (none in dev mode).");
ABSL_FLAG(std::string, tls_ca, "",
          "With --addr: the node serves TLS; verify it against this CA file (PEM). Not with "
          "nodes or baseline servers kv-bench starts itself (they run plain text).");
ABSL_FLAG(std::string, concurrency, "",
          "Comma-separated calls in flight (put, bulk: writer threads); default put 1,4,16, "
          "bulk 1,4, others 16.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured time per configuration.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1),
          "Unmeasured time before each closed-loop configuration.");
ABSL_FLAG(int, key_size, 16, "Key bytes.");
ABSL_FLAG(int, value_size, 100, "Value bytes.");
ABSL_FLAG(int, keys, 0,
          "Keys; default edge-hit 10000, edge-miss and mixed 100000, propagation 1000.");
ABSL_FLAG(double, read_ratio, 0.9, "mixed: fraction of calls that are Gets (the rest Puts).");
ABSL_FLAG(int, batch, 1000, "bulk: entries per BulkPut (1..10000).");
ABSL_FLAG(std::string, redis_server, "redis-server", "mixed --baseline: redis-server binary.");
ABSL_FLAG(std::string, redis_appendfsync, "always",
          "mixed --baseline: redis' appendfsync (always = durable writes, as ours; everysec; "
          "no).");
ABSL_FLAG(double, max_hit_fraction, 0.1,
          "edge-miss: fail when more of the edge's answers are cache hits.");
ABSL_FLAG(std::string, plot, "",
          "Write a PNG of latency (p50, p99) and throughput over time (gnuplot).");
ABSL_FLAG(int, edges, 3, "propagation: number of edges.");
ABSL_FLAG(double, write_rate, 1000, "propagation: puts per second to the central.");
ABSL_FLAG(int, write_concurrency, 64, "propagation: most puts in flight.");
ABSL_FLAG(absl::Duration, settle, absl::Seconds(10),
          "propagation: longest wait after the writes for the edges to see them.");
ABSL_FLAG(int, channels, 1, "edge-hit: client connections the calls are spread over.");
ABSL_FLAG(bool, baseline, false,
          "Also run the same-run baseline (put, bulk: db_bench; edge-hit, edge-miss: bare "
          "gRPC server; mixed: redis-server) and print ratios.");
ABSL_FLAG(bool, put_fresh_db, true,
          "put with --central_bin: start every measured run (each concurrency, each round) "
          "on a new central with an empty data dir, as db_bench fillrandom starts from an "
          "empty database; false: one central for the whole run, its data accumulating.");
ABSL_FLAG(int, rounds, 1,
          "put, edge-hit, edge-miss with --baseline: alternate ours and the baseline this "
          "many times (--duration split between the rounds, whole seconds for put, order "
          "swapped every round) and print the ratio of the total rates and the per-round median: fair when other work on the "
          "machine drifts.");
ABSL_FLAG(std::string, bare_api, "async",
          "edge-hit baseline server API: async (completion queue, one thread) or sync.");
ABSL_FLAG(std::string, put_client, "cq",
          "put: the client API: cq (one thread keeps C calls in flight, like the bare "
          "baselines) or sync (C threads, one blocking call each).");
ABSL_FLAG(int, put_connections, 0,
          "put (cq client): connections the writers' calls are spread over; 0 = one per "
          "writer (like distinct clients).");
ABSL_FLAG(std::string, db_bench, "db_bench", "db_bench binary (Debian rocksdb-tools).");
ABSL_FLAG(bool, json, false, "Print one JSON object per result.");
ABSL_FLAG(bool, pin, DefaultPin(),
          "edge-hit: server under test on core 0, kv-bench on core 1 (default: on with >= 2 "
          "cores).");
ABSL_FLAG(uint64_t, cache_bytes, 0,
          "--cache_bytes of the edges started; 0: 256 MiB, edge-miss 256 KiB.");
ABSL_FLAG(double, min_hit_fraction, 0.99,
          "edge-hit: fail when fewer of the edge's answers are cache hits.");
ABSL_FLAG(bool, keep_tmp, false, "Keep the temporary directory (nodes' logs and data).");
ABSL_FLAG(bool, serve_bare, false, "Internal: run the bare baseline server.");
ABSL_FLAG(std::string, ready_file, "", "Internal (--serve_bare): where to write grpc_port=.");

namespace {

constexpr char kUsage[] = R"(load generator with same-run baselines.

  kv-bench --workload=put --concurrency=1,4,16 --duration=10s \
           --central_bin=build/central/kv-central --baseline
      durable puts at a kv-central; baseline db_bench fillrandom --sync=1.

  kv-bench --workload=edge-hit --central_bin=build/central/kv-central \
           --edge_bin=build/edge/kv-edge --duration=10s --baseline
      cache-hit Gets at a kv-edge (16 in flight, one CQ thread, edge on core 0,
      kv-bench on core 1); baseline: a bare kv.v1.Kv server with a fixed answer.

  kv-bench --workload=propagation --edges=3 --write_rate=1000 --duration=10s \
           --central_bin=build/central/kv-central --edge_bin=build/edge/kv-edge
      puts at the central; propagation p50/p99/max from the edges'
      kv_propagation_latency_seconds histograms. No baseline.

  kv-bench --workload=edge-miss --central_bin=build/central/kv-central \
           --edge_bin=build/edge/kv-edge --duration=10s --baseline
      Gets of 100,000 keys at an edge with a 256 KiB cache (nearly all misses,
      fetched from the central); baseline: the bare server, plus the central
      read directly for context.

  kv-bench --workload=mixed --read_ratio=0.9 --central_bin=build/central/kv-central \
           --edge_bin=build/edge/kv-edge --duration=10s --baseline
      zipfian Gets and Puts at an edge (writes forwarded, durable); baseline:
      redis-server with appendfsync always, the same loop over RESP.

  kv-bench --workload=bulk --batch=1000 --concurrency=1,4 \
           --central_bin=build/central/kv-central --baseline
      BulkPut of 1,000 entries per request; baseline db_bench fillrandom
      --sync=1 --batch_size=1000. Throughput in keys/s.

Common: --json (one JSON object per result), --plot FILE.png (latency and
throughput over time, gnuplot), --keep_tmp (keep node logs). A progress line
goes to stderr when it is a terminal.)";

std::string SelfBinary() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

int main(int argc, char** argv) {
  kv::ConfigureMutexDeadlockDetection();  // before any thread starts
  absl::SetProgramUsageMessage(kUsage);
  absl::FlagsUsageConfig usage_config;
  // --help lists the flags defined in this file (named kv_bench.cc, not
  // after the binary, so absl's default would list none).
  usage_config.contains_help_flags = [](absl::string_view path) {
    return absl::EndsWith(path, "tools/bench/kv_bench.cc");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  absl::ParseCommandLine(argc, argv);
  using kv::bench::Options;

  if (absl::GetFlag(FLAGS_serve_bare)) {
    return kv::bench::RunBareServer(absl::GetFlag(FLAGS_ready_file),
                                    absl::GetFlag(FLAGS_bare_api),
                                    absl::GetFlag(FLAGS_value_size));
  }

  kv::bench::InstallInterruptCleanup();
  Options o;
  o.loadavg_before = kv::bench::LoadAverage1m();
  o.workload = absl::GetFlag(FLAGS_workload);
  o.addr = absl::GetFlag(FLAGS_addr);
  o.central_bin = absl::GetFlag(FLAGS_central_bin);
  o.edge_bin = absl::GetFlag(FLAGS_edge_bin);
  o.self_bin = SelfBinary();
  o.token = absl::GetFlag(FLAGS_token);
  o.duration = absl::GetFlag(FLAGS_duration);
  o.warmup = absl::GetFlag(FLAGS_warmup);
  o.key_size = absl::GetFlag(FLAGS_key_size);
  o.value_size = absl::GetFlag(FLAGS_value_size);
  o.keys = absl::GetFlag(FLAGS_keys);
  o.edges = absl::GetFlag(FLAGS_edges);
  o.write_rate = absl::GetFlag(FLAGS_write_rate);
  o.write_concurrency = absl::GetFlag(FLAGS_write_concurrency);
  o.settle = absl::GetFlag(FLAGS_settle);
  o.channels = absl::GetFlag(FLAGS_channels);
  o.baseline = absl::GetFlag(FLAGS_baseline);
  o.put_fresh_db = absl::GetFlag(FLAGS_put_fresh_db);
  o.server_pid = absl::GetFlag(FLAGS_server_pid);
  o.bare_api = absl::GetFlag(FLAGS_bare_api);
  o.db_bench = absl::GetFlag(FLAGS_db_bench);
  o.json = absl::GetFlag(FLAGS_json);
  o.pin = absl::GetFlag(FLAGS_pin);
  o.cache_bytes = absl::GetFlag(FLAGS_cache_bytes);
  o.min_hit_fraction = absl::GetFlag(FLAGS_min_hit_fraction);
  o.keep_tmp = absl::GetFlag(FLAGS_keep_tmp);
  o.read_ratio = absl::GetFlag(FLAGS_read_ratio);
  o.batch = absl::GetFlag(FLAGS_batch);
  o.redis_server = absl::GetFlag(FLAGS_redis_server);
  o.redis_appendfsync = absl::GetFlag(FLAGS_redis_appendfsync);
  if (o.redis_appendfsync != "always" && o.redis_appendfsync != "everysec" &&
      o.redis_appendfsync != "no") {
    std::cerr << "kv-bench: --redis_appendfsync must be always, everysec or no\n";
    return 2;
  }
  o.max_hit_fraction = absl::GetFlag(FLAGS_max_hit_fraction);
  o.plot = absl::GetFlag(FLAGS_plot);
  o.put_client = absl::GetFlag(FLAGS_put_client);
  o.put_connections = absl::GetFlag(FLAGS_put_connections);
  if (o.put_connections < 0) {
    std::cerr << "kv-bench: --put_connections must not be negative\n";
    return 2;
  }
  if (o.put_client != "cq" && o.put_client != "sync") {
    std::cerr << "kv-bench: --put_client must be cq or sync\n";
    return 2;
  }
  o.rounds = absl::GetFlag(FLAGS_rounds);
  if (o.rounds < 1) {
    std::cerr << "kv-bench: --rounds must be at least 1\n";
    return 2;
  }

  if (const std::string ca = absl::GetFlag(FLAGS_tls_ca); !ca.empty()) {
    // kv-bench's own nodes and bare servers are plain text: TLS only for a
    // node given by --addr, with no baseline server (db_bench is in-process).
    const bool own_servers =
        o.addr.empty() || (o.baseline && o.workload != "put" && o.workload != "bulk");
    if (own_servers) {
      std::cerr << "kv-bench: --tls_ca needs --addr (and no --baseline but put's and bulk's)\n";
      return 2;
    }
    if (absl::Status tls = kv::bench::UseTls(ca); !tls.ok()) {
      std::cerr << "kv-bench: --tls_ca: " << tls.message() << "\n";
      return 2;
    }
  }
  if (o.duration <= absl::ZeroDuration() || o.warmup < absl::ZeroDuration()) {
    std::cerr << "kv-bench: --duration must be positive and --warmup not negative\n";
    return 2;
  }
  if (o.value_size < 0 || o.key_size < 8 || o.key_size > 512 || o.keys < 0 ||
      o.write_rate <= 0 || o.channels < 1) {
    std::cerr << "kv-bench: bad --key_size (8..512), --value_size, --keys, --write_rate or "
                 "--channels\n";
    return 2;
  }
  if (o.bare_api != "async" && o.bare_api != "sync") {
    std::cerr << "kv-bench: --bare_api must be async or sync\n";
    return 2;
  }
  std::string concurrency = absl::GetFlag(FLAGS_concurrency);
  if (concurrency.empty()) {
    concurrency = o.workload == "put" ? "1,4,16" : o.workload == "bulk" ? "1,4" : "16";
  }
  for (absl::string_view c : absl::StrSplit(concurrency, ',')) {
    int n;
    if (!absl::SimpleAtoi(c, &n) || n < 1) {
      std::cerr << "kv-bench: bad --concurrency entry \"" << c << "\"\n";
      return 2;
    }
    o.concurrency.push_back(n);
  }

  int rc;
  if (o.workload == "put") {
    rc = kv::bench::RunPutWorkload(o);
  } else if (o.workload == "bulk") {
    rc = kv::bench::RunBulkWorkload(o);
  } else if (o.workload == "edge-hit" || o.workload == "edge-miss") {
    rc = kv::bench::RunEdgeHitWorkload(o);
  } else if (o.workload == "mixed") {
    rc = kv::bench::RunMixedWorkload(o);
  } else if (o.workload == "propagation") {
    rc = kv::bench::RunPropagationWorkload(o);
  } else {
    std::cerr << "kv-bench: unknown workload " << o.workload
              << " (put, bulk, edge-hit, edge-miss, mixed, propagation)\n";
    return 2;
  }
  if (!o.plot.empty()) {
    if (absl::Status s = kv::bench::WritePlot(o.plot, o.workload); !s.ok()) {
      std::cerr << "kv-bench: --plot: " << s.message() << "\n";
      if (rc == 0) rc = 1;
    } else if (!o.json) {
      std::cout << "# plot written to " << o.plot << std::endl;
    }
  }
  return rc;
}
