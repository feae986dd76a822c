#ifndef KV_TESTS_HARNESS_NODE_LAUNCH_H_
#define KV_TESTS_HARNESS_NODE_LAUNCH_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/harness/process.h"

namespace kv::testing {

// What a node wrote in its ready file: `key=value` lines.
using ReadyInfo = absl::flat_hash_map<std::string, std::string>;

struct LaunchedNode {
  std::unique_ptr<Process> process;
  ReadyInfo ready_info;
};

// Starts a node (kv-central, kv-edge; `name` is for messages and the log
// marker) and waits until it has written `ready_path`: removes a stale
// ready file first, appends a "run N" marker to the shared log
// (options.stdout_path), fails at once when the child exits, kills it after
// `timeout`, and checks the pid the file names. Errors carry the log tail.
// With `retry_busy_port` (a node told to listen on its earlier port again),
// a node that exits because a port is in use is started again until
// `timeout`: a socket may have taken the port while the node was down.
absl::StatusOr<LaunchedNode> LaunchNode(absl::string_view name, ProcessOptions options,
                                        const std::string& ready_path, int run,
                                        absl::Duration timeout, bool retry_busy_port = false);

// The positive port under `key`, or 0.
int ReadyPort(const ReadyInfo& info, absl::string_view key);

// SIGTERM and a wait: OK only when the node exits 0 within `timeout`.
absl::Status StopNode(absl::string_view name, Process& process, absl::Duration timeout);

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_NODE_LAUNCH_H_
