#include "tools/bench/owned_process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace kv::bench {
namespace {

// Captured at static initialisation, before anything pins the process.
const std::vector<int>& InitialCpusStorage() {
  static const std::vector<int> cpus = [] {
    std::vector<int> out;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (CPU_ISSET(c, &set)) out.push_back(c);
      }
    }
    return out;
  }();
  return cpus;
}
[[maybe_unused]] const bool kCaptured = !InitialCpusStorage().empty();

std::map<std::string, std::string> ReadReady(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

// What an interrupt must clean up.
std::mutex registry_mu;
std::set<pid_t>& LivePids() {
  static auto* pids = new std::set<pid_t>();
  return *pids;
}
std::set<std::string>& LiveDirs() {
  static auto* dirs = new std::set<std::string>();
  return *dirs;
}

}  // namespace

void InstallInterruptCleanup() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  std::thread([sigs] {
    int sig = 0;
    sigwait(&sigs, &sig);
    std::lock_guard<std::mutex> lock(registry_mu);
    std::cerr << "\nkv-bench: interrupted; stopping " << LivePids().size()
              << " node(s)\n";
    for (pid_t pid : LivePids()) kill(pid, SIGTERM);
    for (pid_t pid : LivePids()) waitpid(pid, nullptr, 0);
    for (const std::string& dir : LiveDirs()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
    _exit(130);
  }).detach();
}

std::vector<int> InitialCpus() { return InitialCpusStorage(); }

bool PinSelf(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

std::string FindInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

std::string TailOfFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  return s;
}

absl::StatusOr<std::unique_ptr<Workspace>> Workspace::Create(bool keep) {
  std::string templ =
      (std::filesystem::temp_directory_path() / "kv-bench-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    return absl::UnavailableError(absl::StrCat("mkdtemp ", templ, " failed"));
  }
  auto ws = std::unique_ptr<Workspace>(new Workspace());
  ws->dir_ = templ;
  ws->keep_ = keep;
  if (!keep) {
    std::lock_guard<std::mutex> lock(registry_mu);
    LiveDirs().insert(templ);
  }
  return ws;
}

Workspace::~Workspace() {
  {
    std::lock_guard<std::mutex> lock(registry_mu);
    LiveDirs().erase(dir_.string());
  }
  if (keep_) {
    std::cerr << "kv-bench: kept " << dir_.string() << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::StatusOr<std::unique_ptr<OwnedProcess>> OwnedProcess::Start(const ProcessSpec& spec,
                                                                  absl::Duration timeout) {
  auto p = std::unique_ptr<OwnedProcess>(new OwnedProcess(spec));
  // Everything the child needs is prepared before fork: between fork and
  // exec a multithreaded parent's child may only make plain system calls.
  std::vector<std::string> argv_storage;
  argv_storage.push_back(spec.bin);
  for (const std::string& a : spec.args) argv_storage.push_back(a);
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (spec.cpu >= 0) {
    CPU_SET(spec.cpu, &cpus);
  } else {
    for (int c : InitialCpus()) CPU_SET(c, &cpus);
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::UnavailableError(absl::StrCat("fork for ", spec.name, " failed"));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the benchmark
    if (getppid() != parent) _exit(126);
    sched_setaffinity(0, sizeof(cpus), &cpus);
    const int fd = open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    // Signals the parent blocks stay blocked across exec; unblock them.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  p->pid_ = pid;
  {
    std::lock_guard<std::mutex> lock(registry_mu);
    LivePids().insert(pid);
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (std::filesystem::exists(spec.ready_file)) {
      p->ready_ = ReadReady(spec.ready_file);
      return p;
    }
    if (p->Exited()) {
      return absl::UnavailableError(absl::StrCat(spec.name, " (", spec.bin,
                                                 ") exited before it was ready; its log:\n",
                                                 TailOfFile(spec.log_file)));
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError(absl::StrCat(spec.name, " not ready after ",
                                                  absl::FormatDuration(timeout),
                                                  "; its log:\n", TailOfFile(spec.log_file)));
}

bool OwnedProcess::Exited() {
  if (reaped_) return true;
  int status;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    std::lock_guard<std::mutex> lock(registry_mu);
    LivePids().erase(pid_);
  }
  return reaped_;
}

OwnedProcess::~OwnedProcess() {
  if (pid_ <= 0 || Exited()) return;
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!Exited()) {
    if (absl::Now() > deadline) {
      std::cerr << "kv-bench: " << spec_.name << " ignored SIGTERM; killing it\n";
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      reaped_ = true;
      std::lock_guard<std::mutex> lock(registry_mu);
      LivePids().erase(pid_);
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
}

std::string OwnedProcess::Field(const std::string& key) const {
  auto it = ready_.find(key);
  return it == ready_.end() ? "" : it->second;
}

std::string OwnedProcess::LocalAddr(const std::string& port_key) const {
  return absl::StrCat("127.0.0.1:", Field(port_key));
}

absl::StatusOr<std::unique_ptr<OwnedProcess>> StartCentral(const Workspace& ws,
                                                           const std::string& bin) {
  ProcessSpec spec;
  spec.name = "kv-central";
  spec.bin = bin;
  spec.args = {absl::StrCat("--data_dir=", ws.Path("central-data")), "--grpc_addr=127.0.0.1:0",
               "--dev", absl::StrCat("--ready_file=", ws.Path("central.ready"))};
  spec.ready_file = ws.Path("central.ready");
  spec.log_file = ws.Path("central.log");
  return OwnedProcess::Start(spec);
}

absl::StatusOr<std::unique_ptr<OwnedProcess>> StartEdge(const Workspace& ws,
                                                        const std::string& bin,
                                                        const std::string& central_addr,
                                                        int index, int cpu,
                                                        uint64_t cache_bytes) {
  ProcessSpec spec;
  spec.name = absl::StrCat("kv-edge ", index);
  spec.bin = bin;
  spec.ready_file = ws.Path(absl::StrCat("edge-", index, ".ready"));
  spec.log_file = ws.Path(absl::StrCat("edge-", index, ".log"));
  spec.args = {absl::StrCat("--centrals=", central_addr),
               "--grpc_addr=127.0.0.1:0",
               "--metrics_addr=127.0.0.1:0",
               "--dev",
               absl::StrCat("--edge_id=bench-edge-", index),
               absl::StrCat("--cache_bytes=", cache_bytes),
               absl::StrCat("--ready_file=", spec.ready_file)};
  spec.cpu = cpu;
  return OwnedProcess::Start(spec);
}

absl::StatusOr<std::unique_ptr<OwnedProcess>> StartBare(const Workspace& ws,
                                                        const std::string& self_bin,
                                                        const std::string& api,
                                                        int value_size, int cpu) {
  ProcessSpec spec;
  spec.name = "bare server";
  spec.bin = self_bin;
  spec.ready_file = ws.Path("bare.ready");
  spec.log_file = ws.Path("bare.log");
  spec.args = {"--serve_bare", absl::StrCat("--ready_file=", spec.ready_file),
               absl::StrCat("--bare_api=", api), absl::StrCat("--value_size=", value_size)};
  spec.cpu = cpu;
  return OwnedProcess::Start(spec);
}

}  // namespace kv::bench
