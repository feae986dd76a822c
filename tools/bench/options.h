#ifndef KV_TOOLS_BENCH_OPTIONS_H_
#define KV_TOOLS_BENCH_OPTIONS_H_

// kv-bench's flags, parsed once in kv_bench.cc and handed to the workloads.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace kv::bench {

struct Options {
  std::string workload;
  std::string addr;         // a running node; empty: start our own
  std::string central_bin;  // kv-central to start
  std::string edge_bin;     // kv-edge to start
  std::string self_bin;     // this binary (for --serve_bare children)
  std::string token;
  std::vector<int> concurrency;
  absl::Duration duration;
  absl::Duration warmup;
  int key_size = 16;
  int value_size = 100;
  int keys = 0;  // 0: the workload's default
  int edges = 3;
  int channels = 1;
  double write_rate = 1000;
  int write_concurrency = 64;
  bool baseline = false;
  // put, with --central_bin: each measured run against a new central with an
  // empty data dir (as db_bench fillrandom starts from an empty DB).
  bool put_fresh_db = true;
  // put with --addr: the server's pid (for its CPU and memory); -1: unknown.
  int server_pid = -1;
  std::string bare_api = "async";
  std::string db_bench;
  bool json = false;
  bool pin = false;
  bool keep_tmp = false;
  uint64_t cache_bytes = 0;  // 0: the workload's default
  double min_hit_fraction = 0.99;
  double loadavg_before = -1;
  absl::Duration settle;  // propagation: longest wait for the last events
  double max_hit_fraction = 0.1;  // edge-miss: fail above this hit fraction
  double read_ratio = 0.9;        // mixed: fraction of calls that are Gets
  std::string redis_server;       // mixed --baseline
  std::string redis_appendfsync = "always";  // mixed --baseline: always | everysec | no
  int batch = 1000;               // bulk: entries per BulkPut
  std::string plot;               // --plot FILE.png; empty: none
  int put_connections = 0;         // put (cq client): 0 = one per writer
  std::string put_client = "cq";  // put: cq (one thread, C calls in flight) | sync (C threads)
  int rounds = 1;                 // put, edge-hit/miss --baseline: alternating rounds
};

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_OPTIONS_H_
