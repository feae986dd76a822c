#ifndef KV_TOOLS_BENCH_OWNED_PROCESS_H_
#define KV_TOOLS_BENCH_OWNED_PROCESS_H_

// Child processes the benchmark starts (kv-central, kv-edge, the bare
// server): fork + exec with an optional CPU pin, wait for the ready file
// (`key=value` lines written atomically by the child), stop by PID.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kv::bench {

// A temporary directory for ready files, logs and data; removed on
// destruction unless `keep`.
class Workspace {
 public:
  static absl::StatusOr<std::unique_ptr<Workspace>> Create(bool keep);
  ~Workspace();
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  bool keep_ = false;
};

struct ProcessSpec {
  std::string name;  // for messages, e.g. "kv-edge 3"
  std::string bin;
  std::vector<std::string> args;
  // CPU to pin the child to; -1 = every CPU this process may use at start
  // (so a child is never accidentally pinned with a pinned parent).
  int cpu = -1;
  std::string ready_file;  // must not exist yet
  std::string log_file;    // the child's stdout and stderr
};

class OwnedProcess {
 public:
  static absl::StatusOr<std::unique_ptr<OwnedProcess>> Start(
      const ProcessSpec& spec, absl::Duration timeout = absl::Seconds(30));
  // Stops the child: SIGTERM, SIGKILL after 10 s.
  ~OwnedProcess();
  OwnedProcess(const OwnedProcess&) = delete;
  OwnedProcess& operator=(const OwnedProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return spec_.name; }
  // A field of the ready file ("" if absent) and ports as "127.0.0.1:PORT".
  std::string Field(const std::string& key) const;
  std::string LocalAddr(const std::string& port_key) const;
  // Whether the child has exited (reaps it).
  bool Exited();

 private:
  explicit OwnedProcess(ProcessSpec spec) : spec_(std::move(spec)) {}
  ProcessSpec spec_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::map<std::string, std::string> ready_;
};

// The benchmark's nodes, all in dev mode on 127.0.0.1 with OS-chosen ports;
// ready files, logs and data live in `ws`. `cpu` as in ProcessSpec.
absl::StatusOr<std::unique_ptr<OwnedProcess>> StartCentral(const Workspace& ws,
                                                           const std::string& bin);
// Ready fields: grpc_port, metrics_port, pid.
absl::StatusOr<std::unique_ptr<OwnedProcess>> StartEdge(const Workspace& ws,
                                                        const std::string& bin,
                                                        const std::string& central_addr,
                                                        int index, int cpu,
                                                        uint64_t cache_bytes);
// `self_bin --serve_bare`: see bare_server.h.
absl::StatusOr<std::unique_ptr<OwnedProcess>> StartBare(const Workspace& ws,
                                                        const std::string& self_bin,
                                                        const std::string& api,
                                                        int value_size, int cpu);

// Makes SIGINT/SIGTERM stop every OwnedProcess still running and remove
// every Workspace (unless kept) before exiting 130. Call first thing in
// main, before any thread exists: it blocks those signals in the calling
// thread (inherited by all later threads; children unblock them) and waits
// for them on a thread of its own.
void InstallInterruptCleanup();

// The CPUs this process could use when the program started.
std::vector<int> InitialCpus();
// Pins the calling thread (and the threads it creates later) to `cpu`.
bool PinSelf(int cpu);

// `name` itself when it contains a '/', else its path in $PATH; "" when
// not found.
std::string FindInPath(const std::string& name);

// Last `max_bytes` of a file, for error messages.
std::string TailOfFile(const std::string& path, size_t max_bytes = 2000);

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_OWNED_PROCESS_H_
