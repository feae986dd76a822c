#ifndef KV_TOOLS_BENCH_BLOCKING_LOOP_H_
#define KV_TOOLS_BENCH_BLOCKING_LOOP_H_

// The closed loop of the thread-per-writer workloads (put with
// --put_client=sync, bulk): C threads, each on its own connection, each
// making one blocking call after another. The loop runs the warm-up, then
// the measured interval with a progress line, and sums what the calls that
// ended inside it did.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/time/time.h"
#include "proto/kv.grpc.pb.h"
#include "tools/bench/report.h"

namespace kv::bench {

// One stub per writer, each on a connection of its own (distinct HTTP/2
// connections, like distinct clients), messages up to 128 MiB.
std::vector<std::unique_ptr<kv::v1::Kv::Stub>> OneConnectionEach(const std::string& addr,
                                                                 int writers);

struct BlockingLoopConfig {
  std::string name;          // of the Result and the progress line
  std::string unit = "ops";  // what the progress line counts
  int concurrency = 1;
  absl::Duration warmup;
  absl::Duration duration;
  pid_t server_pid = -1;  // for its RSS at the end; -1: unknown
};

// What one call did: ok, and how many units (ops, keys) it completed.
struct CallOutcome {
  bool ok = false;
  uint64_t units = 1;
};

// Makes one call of writer `writer` (its thread only), blocking.
using BlockingCall = std::function<CallOutcome(int writer, absl::BitGen& gen)>;

struct BlockingLoopResult {
  // ops: units of the successful calls; latencies per call; errors: failed
  // calls.
  Result result;
  uint64_t calls_ok = 0;
  double seconds = 0;
};

BlockingLoopResult RunBlockingLoop(const BlockingLoopConfig& config, const BlockingCall& call);

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_BLOCKING_LOOP_H_
