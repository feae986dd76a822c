#ifndef KV_TESTS_HARNESS_PROCESS_H_
#define KV_TESTS_HARNESS_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kv::testing {

// How a child ended: exit(code) or a signal.
struct ExitStatus {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // 0 when it exited
  bool Exited(int code) const { return signal == 0 && exit_code == code; }
  std::string ToString() const;  // "exit 0", "signal 9 (Killed)"
};

struct ProcessOptions {
  // argv[0] is the path of the binary (not searched in PATH).
  std::vector<std::string> argv;
  // Added to (or replacing in) the parent's environment; a value of
  // std::nullopt removes the variable. The last entry of a name wins.
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  // Where stdout goes, appended to. Required.
  std::string stdout_path;
  // Where stderr goes; empty: together with stdout.
  std::string stderr_path;
  // A file fed to stdin; empty: /dev/null.
  std::string stdin_path;
};

// A child process started by fork/exec. The child gets SIGKILL when the
// thread that started it exits (PR_SET_PDEATHSIG), so a crashed test leaves
// no orphans: start processes from the test's main thread, not from a
// short-lived helper thread.
// The destructor SIGKILLs a child that is still running and reaps it.
// Not thread-safe: use one Process from one thread at a time.
class Process {
 public:
  // Forks and execs. Returns INTERNAL when fork, exec (a missing binary) or
  // opening a redirection file fails; the exec error is reported here, not
  // as an exit code.
  static absl::StatusOr<std::unique_ptr<Process>> Start(const ProcessOptions& options);

  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const ProcessOptions& options() const { return options_; }

  // True until the child has exited (reaps it when it has).
  bool IsRunning();
  // The exit status once reaped (after IsRunning() returned false, Wait,
  // Kill or Terminate).
  std::optional<ExitStatus> exit_status() const { return exit_status_; }

  // Waits up to `timeout` for the child to exit. DEADLINE_EXCEEDED when it
  // is still running.
  absl::StatusOr<ExitStatus> Wait(absl::Duration timeout);
  // SIGKILL, then reaps. OK when the child had already exited.
  absl::Status Kill();
  // SIGTERM, then waits up to `timeout`. If the child is still running then,
  // it gets SIGKILL and DEADLINE_EXCEEDED is returned.
  absl::StatusOr<ExitStatus> Terminate(absl::Duration timeout = absl::Seconds(30));
  // SIGSTOP / SIGCONT. Pause returns once every thread of the child is
  // stopped (DEADLINE_EXCEEDED if that takes over 5 s).
  absl::Status Pause();
  absl::Status Resume();
  // Any signal.
  absl::Status Signal(int sig);

  // The last `lines` lines of the stdout file (and of the stderr file when
  // separate), for failure messages.
  std::string LogTail(int lines = 50) const;

 private:
  Process(ProcessOptions options, pid_t pid) : options_(std::move(options)), pid_(pid) {}
  void Reaped(int wait_status);

  ProcessOptions options_;
  pid_t pid_;
  std::optional<ExitStatus> exit_status_;
};

// The result of RunCommand.
struct CommandResult {
  ExitStatus status;
  std::string stdout_data;
  std::string stderr_data;
};

// Runs `argv` to completion with stdout and stderr captured separately,
// `stdin_data` fed on stdin, `env` as in ProcessOptions. `scratch_dir` holds
// the capture files. DEADLINE_EXCEEDED (after SIGKILL) when it does not
// finish within `timeout`.
absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv, const std::string& scratch_dir,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& env = {},
    const std::string& stdin_data = "", absl::Duration timeout = absl::Seconds(60));

// The whole content of a file; NOT_FOUND when it cannot be opened.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);
// Writes (replaces) a file.
absl::Status WriteStringToFile(const std::string& path, const std::string& data);

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_PROCESS_H_
