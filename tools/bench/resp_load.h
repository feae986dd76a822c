#ifndef KV_TOOLS_BENCH_RESP_LOAD_H_
#define KV_TOOLS_BENCH_RESP_LOAD_H_

// The mixed workload's baseline client for Redis: the same closed loop as
// get_load.h (one thread, `concurrency` connections with one command in
// flight each, GET or with probability 1 - read_ratio SET of value_size
// bytes, uniform or zipfian keys), speaking RESP over non-blocking sockets
// with epoll, so both sides of the comparison pay the same client shape.
#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tools/bench/report.h"
#include "tools/bench/zipfian.h"

namespace kv::bench {

struct RespLoadConfig {
  std::string name;
  int port = 0;  // on 127.0.0.1
  const std::vector<std::string>* keys = nullptr;
  int concurrency = 16;
  absl::Duration warmup = absl::Seconds(1);
  absl::Duration duration = absl::Seconds(10);
  size_t value_size = 100;
  double read_ratio = 1.0;
  const Zipfian* zipf = nullptr;
  pid_t server_pid = -1;
  bool pinned = false;
};

// SETs every key (pipelined, 1,000 per round trip) to value_size bytes.
absl::Status RespLoadKeys(int port, const std::vector<std::string>& keys, size_t value_size);

// Runs the loop; errors are error replies, nil GETs, wrong value sizes and
// connection failures.
Result RunRespLoad(const RespLoadConfig& config);

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_RESP_LOAD_H_
