// `kvctl dev`: runs a DevCluster in the foreground until Ctrl-C / SIGTERM.
//
// Signals: SIGINT, SIGTERM and SIGHUP are blocked first thing (before any
// thread exists, so every later thread inherits the mask) and taken with
// sigtimedwait; the nodes run in their own process groups, so a terminal's
// Ctrl-C reaches kvctl only and kvctl stops the edges, then the centrals.
// One kvctl dev per data directory (flock on DIR/kvctl-dev.lock).
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/kvctl/commands.h"
#include "tools/kvctl/dev/dev_cluster.h"
#include "tools/kvctl/exit_codes.h"
#include "tools/kvctl/flags.h"

namespace kv::kvctl {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

bool StopSignalPending() {
  sigset_t pending;
  sigpending(&pending);
  return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
         sigismember(&pending, SIGHUP);
}

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

std::string SelfDir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  return std::filesystem::path(std::string(buf, static_cast<size_t>(n))).parent_path().string();
}

// --flag, else next to kvctl in a build tree (build/tools/kvctl ->
// build/<subdir>/<name>) or in the same directory, else $PATH.
std::string FindBinary(const std::string& flag_value, const char* flag_name, const char* subdir,
                       const char* name) {
  if (!flag_value.empty()) {
    if (!Executable(flag_value)) {
      Die(kExitUsage, absl::StrCat(flag_value, " is not an executable file"));
    }
    return flag_value;
  }
  const std::string self = SelfDir();
  if (!self.empty()) {
    for (const std::string& candidate : {absl::StrCat(self, "/../", subdir, "/", name),
                                         absl::StrCat(self, "/", name)}) {
      if (Executable(candidate)) {
        return std::filesystem::weakly_canonical(candidate).string();
      }
    }
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    for (absl::string_view dir : absl::StrSplit(path, ':')) {
      if (dir.empty()) continue;
      const std::string candidate = absl::StrCat(dir, "/", name);
      if (Executable(candidate)) return candidate;
    }
  }
  Die(kExitUsage, absl::StrCat("cannot find ", name,
                               " (next to kvctl or in $PATH); build it or give --", flag_name));
}

}  // namespace

int Dev(const Args& args) {
  sigset_t stop_signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ExpectArgs(args, 1, 1, "dev [--data_dir DIR] [--centrals N] [--edges M] [--window D]");

  DevClusterOptions options;
  options.centrals = absl::GetFlag(FLAGS_centrals);
  options.edges = absl::GetFlag(FLAGS_edges);
  options.window = absl::GetFlag(FLAGS_window);
  options.base_port = absl::GetFlag(FLAGS_base_port);
  options.start_timeout = absl::GetFlag(FLAGS_start_timeout);
  if (options.centrals < 1 || options.centrals > 9) DieUsage("--centrals must be 1..9");
  if (options.edges < 0 || options.edges > 9) DieUsage("--edges must be 0..9");
  if (options.window <= absl::ZeroDuration()) DieUsage("--window must be positive");
  if (options.base_port < 0 || options.base_port > 65535 - 240) {
    DieUsage("--base_port must be 0 (free ports) or 1..65295");
  }
  options.central_bin = FindBinary(absl::GetFlag(FLAGS_central_bin), "central_bin", "central", "kv-central");
  options.edge_bin = FindBinary(absl::GetFlag(FLAGS_edge_bin), "edge_bin", "edge", "kv-edge");

  std::error_code ec;
  const std::string dir_flag = absl::GetFlag(FLAGS_data_dir);
  if (dir_flag.empty()) DieUsage("--data_dir must not be empty");
  std::filesystem::create_directories(dir_flag, ec);
  if (ec) Die(kExitError, absl::StrCat("cannot create ", dir_flag, ": ", ec.message()));
  options.data_dir = std::filesystem::canonical(dir_flag, ec).string();
  if (ec) Die(kExitError, absl::StrCat("cannot resolve ", dir_flag, ": ", ec.message()));

  const std::string lock_path = options.data_dir + "/kvctl-dev.lock";
  const int lock_fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) Die(kExitError, absl::StrCat("cannot open ", lock_path, ": ", strerror(errno)));
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    Die(kExitError, absl::StrCat("another kvctl dev is running on ", options.data_dir,
                                 " (", lock_path, " is locked)"));
  }

  options.interrupted = StopSignalPending;
  DevCluster cluster(options);
  std::cerr << "kvctl dev: starting " << options.centrals << " central(s) and " << options.edges
            << " edge(s) in " << options.data_dir << std::endl;
  if (absl::Status s = cluster.Start(); !s.ok()) {
    if (absl::IsCancelled(s)) {
      std::cerr << "kvctl dev: interrupted while starting; nodes stopped" << std::endl;
      return kExitInterrupted;
    }
    Die(kExitError, absl::StrCat("the cluster did not start: ", s.message()));
  }
  std::cout << cluster.Summary()
            << "Try:  source " << cluster.cluster_env_path() << "\n"
            << "      kvctl namespace create my-app      # prints id=<namespace id>\n"
            << "      kvctl key put greeting hello --namespace-id <id>\n"
            << "      kvctl --addr \"${KV_EDGE_GRPC_ADDRS%% *}\" key get greeting "
               "--namespace-id <id>\n"
            << "Ctrl-C stops the cluster; the data stays in " << options.data_dir << "."
            << std::endl;

  // Run until a stop signal or a node dies.
  int exit_code = 0;
  while (true) {
    timespec tick{0, 200 * 1000 * 1000};
    const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
    if (sig > 0) {
      std::cerr << "\nkvctl dev: " << strsignal(sig) << "; stopping the edges, then the centrals"
                << std::endl;
      break;
    }
    if (std::optional<std::string> died = cluster.CheckNodes()) {
      std::cerr << "kvctl: " << *died << std::endl;
      std::cerr << "kvctl dev: stopping the other nodes" << std::endl;
      exit_code = kExitError;
      break;
    }
  }
  if (absl::Status s = cluster.Stop(); !s.ok()) {
    std::cerr << "kvctl: " << s.message() << std::endl;
    return kExitError;
  }
  if (exit_code == 0) {
    std::cerr << "kvctl dev: every node stopped cleanly; data kept in " << options.data_dir
              << std::endl;
  }
  return exit_code;
}

}  // namespace kv::kvctl
