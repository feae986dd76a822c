#ifndef KV_TOOLS_KVCTL_DEV_NODE_PROCESS_H_
#define KV_TOOLS_KVCTL_DEV_NODE_PROCESS_H_

// One kv-central or kv-edge run by `kvctl dev`: fork + exec in its own
// process group (so a terminal's Ctrl-C reaches only kvctl, which then
// stops the nodes in order), output appended to a log file, SIGTERM on
// kvctl's death (PR_SET_PDEATHSIG), and its ready file (`key=value` lines)
// read back. Not thread-safe; start and stop from the main thread.
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kv::kvctl {

class NodeProcess {
 public:
  // Starts `argv` (argv[0] is the binary's path). INTERNAL when fork, exec
  // or the log file fails. REQUIRES: the ready file does not exist.
  static absl::StatusOr<std::unique_ptr<NodeProcess>> Start(std::string name,
                                                            std::vector<std::string> argv,
                                                            std::string log_path,
                                                            std::string ready_path);
  // Kills (SIGKILL) a node still running: Stop() is the clean way.
  ~NodeProcess();
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Whether the ready file is there yet (then reads it). FAILED_PRECONDITION
  // with the log's tail when the node has exited.
  absl::StatusOr<bool> PollReady();
  // A ready-file field ("" when absent) and a port as 127.0.0.1:PORT
  // ("" when absent).
  std::string Field(const std::string& key) const;
  std::string Addr(const std::string& port_key) const;

  // The exit description once the node has exited unexpectedly (reaps).
  std::optional<std::string> ExitedUnexpectedly();
  // SIGTERM without waiting.
  void SendTerm();
  // Waits for the exit; SIGKILL after `timeout`. OK only for exit 0.
  absl::Status WaitStopped(absl::Duration timeout);

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }
  std::string LogTail() const;

 private:
  NodeProcess() = default;
  std::string name_, log_path_, ready_path_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int wait_status_ = 0;
  std::map<std::string, std::string> ready_;
};

// Describes a wait status: "exit 1", "signal 9".
std::string DescribeWaitStatus(int status);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_DEV_NODE_PROCESS_H_
