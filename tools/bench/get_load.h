#ifndef KV_TOOLS_BENCH_GET_LOAD_H_
#define KV_TOOLS_BENCH_GET_LOAD_H_

// The closed-loop client of edge-hit, edge-miss and mixed (and of the bare
// baseline): the gRPC completion-queue API with one CQ drained by one
// thread, like /work/shared/baselines/grpc_client.cc --api cq, so C calls in
// flight cost no C threads. Each completion issues the next call at once:
// a one-key Get, or with probability 1 - read_ratio a Put of a value of
// value_size bytes; keys are uniform random over `keys`, or zipfian.
#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/bench/report.h"
#include "tools/bench/zipfian.h"

namespace kv::bench {

struct GetLoadConfig {
  std::string name;    // the result's name
  std::string target;  // host:port
  std::string ns;
  const std::vector<std::string>* keys = nullptr;
  int concurrency = 16;
  int channels = 1;  // distinct connections, calls spread round-robin
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(10);
  std::string token;
  size_t value_size = 100;  // a response with another size counts as an error
  pid_t server_pid = -1;    // for RSS and CPU; -1 = unknown
  bool pinned = false;
  // Fraction of calls that are Gets; the rest are Puts. Default: all Gets.
  double read_ratio = 1.0;
  // Key popularity; nullptr: uniform. Must outlive the run.
  const Zipfian* zipf = nullptr;
};

// Runs warm-up then the measured interval, and reports throughput, latency
// percentiles of every call completed in the interval, errors (non-OK
// status, key not found, wrong value size), the fraction of Gets answered
// "HIT", CPU of both sides, a latency series and, when there are Puts, the
// reads/writes counts and each kind's p99 in `extra`.
Result RunGetLoad(const GetLoadConfig& config);

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_GET_LOAD_H_
