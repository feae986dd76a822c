#include "tests/harness/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace kv::testing {
namespace {

absl::Status ErrnoStatus(absl::string_view what, int err) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(err)));
}

// The child's environment: the parent's with `overrides` applied.
std::vector<std::string> BuildEnv(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    absl::string_view entry(*e);
    const bool overridden = std::any_of(overrides.begin(), overrides.end(), [&](const auto& o) {
      return absl::StartsWith(entry, absl::StrCat(o.first, "="));
    });
    if (!overridden) env.emplace_back(entry);
  }
  // The last override of a name wins.
  for (size_t i = 0; i < overrides.size(); ++i) {
    const std::string& name = overrides[i].first;
    const std::optional<std::string>& value = overrides[i].second;
    const bool later = std::any_of(overrides.begin() + i + 1, overrides.end(),
                                   [&](const auto& o) { return o.first == name; });
    if (!later && value.has_value()) env.push_back(absl::StrCat(name, "=", *value));
  }
  return env;
}

// Runs in the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void ExecChild(pid_t parent, int stdin_fd, int stdout_fd, int stderr_fd,
                            int error_pipe, char* const* argv, char* const* envp) {
  // Die with the parent (thread); covers a parent that died before prctl.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaction(sig, &dfl, nullptr);
  if (dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) {
    int err = errno;
    (void)!write(error_pipe, &err, sizeof(err));
    _exit(127);
  }
  // Descriptors the parent opened without O_CLOEXEC (other threads, other
  // libraries) are not the child's business. Fails harmlessly before 5.11.
  (void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  execve(argv[0], argv, envp);
  int err = errno;
  (void)!write(error_pipe, &err, sizeof(err));
  _exit(127);
}

std::string Tail(const std::string& path, int lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::StrCat("(cannot open ", path, ")\n");
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(std::move(line));
    if (static_cast<int>(last.size()) > lines) last.pop_front();
  }
  std::string out;
  for (const std::string& l : last) absl::StrAppend(&out, l, "\n");
  return out;
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (signal != 0) return absl::StrCat("signal ", signal, " (", strsignal(signal), ")");
  return absl::StrCat("exit ", exit_code);
}

absl::StatusOr<std::unique_ptr<Process>> Process::Start(const ProcessOptions& options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("empty argv");
  if (options.stdout_path.empty()) return absl::InvalidArgumentError("no stdout_path");

  // Everything the child needs is prepared before fork.
  std::vector<std::string> env = BuildEnv(options.env);
  std::vector<char*> argv_ptrs;
  for (const std::string& a : options.argv) argv_ptrs.push_back(const_cast<char*>(a.c_str()));
  argv_ptrs.push_back(nullptr);
  std::vector<char*> env_ptrs;
  for (std::string& e : env) env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);

  const int out_flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  const std::string stdin_path = options.stdin_path.empty() ? "/dev/null" : options.stdin_path;
  int stdin_fd = open(stdin_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (stdin_fd < 0) return ErrnoStatus(absl::StrCat("open ", stdin_path), errno);
  int stdout_fd = open(options.stdout_path.c_str(), out_flags, 0644);
  if (stdout_fd < 0) {
    int err = errno;
    close(stdin_fd);
    return ErrnoStatus(absl::StrCat("open ", options.stdout_path), err);
  }
  int stderr_fd = stdout_fd;
  if (!options.stderr_path.empty()) {
    stderr_fd = open(options.stderr_path.c_str(), out_flags, 0644);
    if (stderr_fd < 0) {
      int err = errno;
      close(stdin_fd);
      close(stdout_fd);
      return ErrnoStatus(absl::StrCat("open ", options.stderr_path), err);
    }
  }
  auto close_redirections = [&] {
    close(stdin_fd);
    close(stdout_fd);
    if (stderr_fd != stdout_fd) close(stderr_fd);
  };
  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    close_redirections();
    return ErrnoStatus("pipe2", err);
  }

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    close_redirections();
    close(error_pipe[0]);
    close(error_pipe[1]);
    return ErrnoStatus("fork", err);
  }
  if (pid == 0) {
    ExecChild(parent, stdin_fd, stdout_fd, stderr_fd, error_pipe[1], argv_ptrs.data(),
              env_ptrs.data());
  }
  close_redirections();
  close(error_pipe[1]);
  // The pipe closes on a successful exec; otherwise it carries errno.
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(error_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (n > 0) {
    int wait_status;
    while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
    }
    return ErrnoStatus(absl::StrCat("exec ", options.argv[0]), child_errno);
  }
  return std::unique_ptr<Process>(new Process(options, pid));
}

Process::~Process() {
  if (!exit_status_.has_value()) (void)Kill();
}

void Process::Reaped(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) {
    status.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    status.signal = WTERMSIG(wait_status);
  }
  exit_status_ = status;
}

bool Process::IsRunning() {
  if (exit_status_.has_value()) return false;
  int wait_status;
  pid_t r = waitpid(pid_, &wait_status, WNOHANG);
  if (r == pid_) {
    Reaped(wait_status);
    return false;
  }
  return true;
}

absl::StatusOr<ExitStatus> Process::Wait(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(1);
  while (IsRunning()) {
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "pid ", pid_, " still running after ", absl::FormatDuration(timeout)));
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(20));
  }
  return *exit_status_;
}

absl::Status Process::Signal(int sig) {
  if (!IsRunning()) {
    return absl::FailedPreconditionError(
        absl::StrCat("pid ", pid_, " has exited: ", exit_status_->ToString()));
  }
  if (kill(pid_, sig) != 0) return ErrnoStatus(absl::StrCat("kill ", pid_), errno);
  return absl::OkStatus();
}

absl::Status Process::Kill() {
  if (exit_status_.has_value()) return absl::OkStatus();
  // The pid stays ours (unreaped) until waitpid, so this cannot hit another
  // process.
  if (kill(pid_, SIGKILL) != 0 && errno != ESRCH) {
    return ErrnoStatus(absl::StrCat("kill ", pid_), errno);
  }
  int wait_status;
  pid_t r;
  do {
    r = waitpid(pid_, &wait_status, 0);
  } while (r < 0 && errno == EINTR);
  if (r != pid_) return ErrnoStatus(absl::StrCat("waitpid ", pid_), errno);
  Reaped(wait_status);
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Process::Terminate(absl::Duration timeout) {
  if (exit_status_.has_value()) return *exit_status_;
  if (kill(pid_, SIGTERM) != 0 && errno != ESRCH) {
    return ErrnoStatus(absl::StrCat("kill ", pid_), errno);
  }
  absl::StatusOr<ExitStatus> status = Wait(timeout);
  if (!status.ok()) {
    (void)Kill();
    return absl::DeadlineExceededError(absl::StrCat(
        "pid ", pid_, " did not exit within ", absl::FormatDuration(timeout),
        " of SIGTERM; killed"));
  }
  return status;
}

absl::Status Process::Pause() {
  if (absl::Status s = Signal(SIGSTOP); !s.ok()) return s;
  // SIGSTOP takes effect asynchronously: a thread running on another core
  // may still answer a request. Wait until every thread is stopped ('T' in
  // /proc/PID/task/TID/stat).
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  const std::string stat_path = absl::StrCat("/proc/", pid_, "/task");
  while (absl::Now() < deadline) {
    bool all_stopped = true;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(stat_path, ec)) {
      absl::StatusOr<std::string> stat = ReadFileToString(task.path().string() + "/stat");
      if (!stat.ok()) continue;  // the thread ended
      const size_t paren = stat->rfind(')');
      if (paren == std::string::npos || paren + 2 >= stat->size() ||
          (*stat)[paren + 2] != 'T') {
        all_stopped = false;
        break;
      }
    }
    if (ec) return ErrnoStatus(absl::StrCat("list ", stat_path), ec.value());
    if (all_stopped) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::DeadlineExceededError(absl::StrCat("pid ", pid_, " did not stop within 5 s"));
}
absl::Status Process::Resume() { return Signal(SIGCONT); }

std::string Process::LogTail(int lines) const {
  std::string out = Tail(options_.stdout_path, lines);
  if (!options_.stderr_path.empty()) {
    absl::StrAppend(&out, "--- stderr ---\n", Tail(options_.stderr_path, lines));
  }
  return out;
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

absl::Status WriteStringToFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::InternalError(absl::StrCat("cannot create ", path));
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv, const std::string& scratch_dir,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& env,
    const std::string& stdin_data, absl::Duration timeout) {
  static std::atomic<int> counter{0};
  const std::string base = absl::StrCat(scratch_dir, "/cmd", counter.fetch_add(1));
  ProcessOptions options;
  options.argv = argv;
  options.env = env;
  options.stdout_path = base + ".stdout";
  options.stderr_path = base + ".stderr";
  options.stdin_path = base + ".stdin";
  for (const std::string* path : {&options.stdout_path, &options.stderr_path}) {
    if (absl::Status s = WriteStringToFile(*path, ""); !s.ok()) return s;
  }
  if (absl::Status s = WriteStringToFile(options.stdin_path, stdin_data); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(options);
  if (!process.ok()) return process.status();
  absl::StatusOr<ExitStatus> status = (*process)->Wait(timeout);
  if (!status.ok()) {
    (void)(*process)->Kill();
    return status.status();
  }
  CommandResult result;
  result.status = *status;
  absl::StatusOr<std::string> out = ReadFileToString(options.stdout_path);
  if (!out.ok()) return out.status();
  absl::StatusOr<std::string> err = ReadFileToString(options.stderr_path);
  if (!err.ok()) return err.status();
  result.stdout_data = std::move(*out);
  result.stderr_data = std::move(*err);
  return result;
}

}  // namespace kv::testing
