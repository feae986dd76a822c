#ifndef KV_TESTS_HARNESS_EDGE_PROCESS_H_
#define KV_TESTS_HARNESS_EDGE_PROCESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/kv.grpc.pb.h"
#include "tests/harness/metrics_scraper.h"
#include "tests/harness/process.h"

namespace kv::testing {

struct EdgeProcessOptions {
  // The kv-edge binary. Default: $KV_EDGE_BIN.
  std::string binary;
  // gRPC addresses of the centrals, preferred first (--centrals). Required.
  std::vector<std::string> centrals;
  // Open mode (--dev): no authentication. Default: true.
  bool dev = true;
  // --edge_id. Default: "edge".
  std::string edge_id = "edge";
  // Serve the REST API (--http_addr) and the workerd protocol
  // (--workerd_addr) on 127.0.0.1 port 0; the ports are read from the ready
  // file. Default: false.
  bool http = false;
  bool workerd = false;
  // Passed as --tokens_file when not empty (use with dev = false).
  std::string tokens_file;
  // A metrics-scope token of that file: the harness's scrapes (Metrics())
  // send it. Empty: none (dev mode needs none).
  std::string metrics_token;
  // The edge serves TLS (its --tls_* flags go in extra_flags): the
  // harness's own channel verifies it against this CA file.
  std::string tls_ca;
  // More flags, e.g. "--window=3s", "--cache_bytes=4194304".
  std::vector<std::string> extra_flags;
  // How long the node may take to write its ready file. Default: 30 s.
  absl::Duration start_timeout = absl::Seconds(30);
  // How long Stop() waits after SIGTERM. Default: 30 s.
  absl::Duration stop_timeout = absl::Seconds(30);
};

// One real kv-edge process on 127.0.0.1 with its gRPC and metrics ports
// picked by the kernel (port 0) and read from its ready file (written then
// renamed by the node); the ports change on every restart, so take new
// stubs after Restart(). The log (stdout and stderr, appended across
// restarts) is `work_dir`/edge.log.
// Not thread-safe (one test thread drives it); the channel and stubs it
// returns are thread-safe. The destructor SIGKILLs a running node.
class EdgeProcess {
 public:
  // Starts the node and waits for its ready file. FAILED_PRECONDITION when
  // the binary is unknown or no central is given; UNAVAILABLE (with the log
  // tail) when the node exits or is not ready within start_timeout.
  static absl::StatusOr<std::unique_ptr<EdgeProcess>> Start(const std::string& work_dir,
                                                            EdgeProcessOptions options);
  ~EdgeProcess();

  // Stops a running node (SIGTERM) and starts it again (an empty cache).
  absl::Status Restart();
  // Starts a stopped or killed node again.
  absl::Status StartAgain();
  // SIGKILL and reap.
  absl::Status Kill();
  // SIGTERM; OK only when the node exits 0 within stop_timeout.
  absl::Status Stop();
  // SIGSTOP / SIGCONT.
  absl::Status Pause();
  absl::Status Resume();
  bool IsRunning();

  int grpc_port() const { return grpc_port_; }
  int metrics_port() const { return metrics_port_; }
  // 0 unless options.http / options.workerd.
  int http_port() const { return http_port_; }
  int workerd_port() const { return workerd_port_; }
  // "127.0.0.1:<port>".
  std::string grpc_addr() const;
  pid_t pid() const;
  const std::string& work_dir() const { return work_dir_; }
  const std::string& log_path() const { return log_path_; }
  const EdgeProcessOptions& options() const { return options_; }
  // The ready file's key=value pairs of the current run.
  const absl::flat_hash_map<std::string, std::string>& ready_info() const { return ready_info_; }
  Process* process() { return process_.get(); }
  std::string LogTail(int lines = 60) const;

  // A channel to the current run (128 MiB messages both ways).
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  std::unique_ptr<kv::v1::Kv::Stub> NewStub() const;

  // One scrape of the node's /metrics.
  absl::StatusOr<MetricsSnapshot> Metrics(absl::Duration timeout = absl::Seconds(5)) const;
  // One metric of one scrape (see MetricsSnapshot::Value).
  absl::StatusOr<double> Metric(absl::string_view name, const MetricLabels& labels = {}) const;

 private:
  EdgeProcess(std::string work_dir, EdgeProcessOptions options);
  absl::Status Launch();

  const std::string work_dir_;
  const EdgeProcessOptions options_;
  const std::string log_path_;
  const std::string ready_path_;
  int runs_ = 0;
  std::unique_ptr<Process> process_;
  int grpc_port_ = 0;
  int metrics_port_ = 0;
  int http_port_ = 0;
  int workerd_port_ = 0;
  absl::flat_hash_map<std::string, std::string> ready_info_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Resident set size of a live process, from /proc/PID/status.
struct MemoryUsage {
  int64_t rss_bytes = 0;       // VmRSS: now
  int64_t peak_rss_bytes = 0;  // VmHWM: the high-water mark since start
};
// NOT_FOUND when the process is gone; INTERNAL when the file lacks the lines.
absl::StatusOr<MemoryUsage> ReadMemoryUsage(pid_t pid);

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_EDGE_PROCESS_H_
