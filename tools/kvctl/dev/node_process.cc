#include "tools/kvctl/dev/node_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kv::kvctl {

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exit ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
  }
  return "unknown status";
}

absl::StatusOr<std::unique_ptr<NodeProcess>> NodeProcess::Start(std::string name,
                                                                std::vector<std::string> argv,
                                                                std::string log_path,
                                                                std::string ready_path) {
  auto node = std::unique_ptr<NodeProcess>(new NodeProcess());
  node->name_ = std::move(name);
  node->log_path_ = std::move(log_path);
  node->ready_path_ = std::move(ready_path);
  const int log_fd = open(node->log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot open ", node->log_path_, ": ", strerror(errno)));
  }
  std::vector<char*> args;
  for (std::string& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // Exec failures come back through a close-on-exec pipe.
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(args[0], args.data());
    const int err = errno;
    [[maybe_unused]] const ssize_t reported = write(pipe_fds[1], &err, sizeof(err));
    _exit(127);
  }
  close(log_fd);
  close(pipe_fds[1]);
  int exec_errno = 0;
  const ssize_t n = read(pipe_fds[0], &exec_errno, sizeof(exec_errno));
  close(pipe_fds[0]);
  node->pid_ = pid;
  if (n == sizeof(exec_errno)) {
    waitpid(pid, nullptr, 0);
    node->reaped_ = true;
    return absl::InternalError(
        absl::StrCat("cannot run ", argv[0], ": ", strerror(exec_errno)));
  }
  return node;
}

NodeProcess::~NodeProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

absl::StatusOr<bool> NodeProcess::PollReady() {
  if (std::optional<std::string> exited = ExitedUnexpectedly(); exited.has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(name_, " exited (", *exited,
                                                      ") while starting; its log ",
                                                      log_path_, " ends: ", LogTail()));
  }
  std::ifstream in(ready_path_);
  if (!in) return false;
  std::map<std::string, std::string> fields;
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) fields[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (fields.count("grpc_port") == 0) return false;  // not yet complete
  ready_ = std::move(fields);
  return true;
}

std::string NodeProcess::Field(const std::string& key) const {
  auto it = ready_.find(key);
  return it == ready_.end() ? "" : it->second;
}

std::string NodeProcess::Addr(const std::string& port_key) const {
  const std::string port = Field(port_key);
  if (port.empty() || port == "0") return "";
  return absl::StrCat("127.0.0.1:", port);
}

std::optional<std::string> NodeProcess::ExitedUnexpectedly() {
  if (reaped_) return DescribeWaitStatus(wait_status_);
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    wait_status_ = status;
    return DescribeWaitStatus(status);
  }
  return std::nullopt;
}

void NodeProcess::SendTerm() {
  if (!reaped_) kill(pid_, SIGTERM);
}

absl::Status NodeProcess::WaitStopped(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!reaped_) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      reaped_ = true;
      wait_status_ = status;
      break;
    }
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      reaped_ = true;
      wait_status_ = status;
      return absl::DeadlineExceededError(absl::StrCat(
          name_, " did not stop within ", absl::FormatDuration(timeout), "; killed"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(name_, " stopped with ", DescribeWaitStatus(wait_status_)));
}

std::string NodeProcess::LogTail() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  constexpr size_t kMax = 600;
  if (s.size() > kMax) s = "..." + s.substr(s.size() - kMax);
  return s;
}

}  // namespace kv::kvctl
