#ifndef KV_TESTS_HARNESS_CENTRAL_PROCESS_H_
#define KV_TESTS_HARNESS_CENTRAL_PROCESS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/kv.grpc.pb.h"
#include "tests/harness/metrics_scraper.h"
#include "tests/harness/process.h"

namespace kv::testing {

struct CentralProcessOptions {
  // The kv-central binary. Default: $KV_CENTRAL_BIN.
  std::string binary;
  // Open mode (--dev): no authentication. Default: true.
  bool dev = true;
  // Passed as --tokens_file when not empty (use with dev = false).
  std::string tokens_file;
  // A metrics-scope token of that file: the harness's scrapes (Metrics())
  // send it. Empty: none (dev mode needs none).
  std::string metrics_token;
  // --node_id. Default: 1.
  int node_id = 1;
  // Serve the REST API on 127.0.0.1 port 0 (--http_addr); the port is read
  // from the ready file (http_port()). Default: false.
  bool http = false;
  // More flags, e.g. "--max_value_bytes=1024".
  std::vector<std::string> extra_flags;
  // The node serves TLS (its --tls_* flags go in extra_flags): the
  // harness's own channel verifies it against this CA file.
  std::string tls_ca;
  // Restarts (Restart, StartAgain) listen on the port of the first run
  // instead of a new one, so addresses handed to edges (--centrals) stay
  // valid. The first run still gets its port from the kernel (port 0).
  // Default: false.
  bool keep_port = false;
  // How long the node may take to write its ready file. Default: 30 s.
  absl::Duration start_timeout = absl::Seconds(30);
  // How long Stop() waits after SIGTERM. Default: 30 s.
  absl::Duration stop_timeout = absl::Seconds(30);
};

// One real kv-central process on 127.0.0.1 port 0 with its data in
// `work_dir`/data and its log (stdout and stderr, appended across restarts)
// in `work_dir`/central.log. The bound port is read from the ready file
// (`--ready_file`, written then renamed by the node); it changes on every
// restart unless `keep_port`, so take new stubs after Restart().
// Not thread-safe (one test thread drives it); the channel and stubs it
// returns are thread-safe. The destructor SIGKILLs a running node.
class CentralProcess {
 public:
  // Starts the node and waits for its ready file. FAILED_PRECONDITION when
  // the binary is unknown; UNAVAILABLE (with the log tail) when the node
  // exits or is not ready within start_timeout.
  static absl::StatusOr<std::unique_ptr<CentralProcess>> Start(const std::string& work_dir,
                                                               CentralProcessOptions options = {});
  ~CentralProcess();

  // Stops a running node (SIGTERM) and starts it again on the same data dir.
  absl::Status Restart();
  // Starts a stopped or killed node again on the same data dir.
  absl::Status StartAgain();
  // SIGKILL and reap.
  absl::Status Kill();
  // Deletes the data dir and creates it empty, so the next start is a new
  // incarnation. FAILED_PRECONDITION while the node runs.
  absl::Status WipeDataDir();
  // SIGTERM; OK only when the node exits 0 within stop_timeout.
  absl::Status Stop();
  absl::Status Pause();
  absl::Status Resume();
  bool IsRunning();

  int grpc_port() const { return grpc_port_; }
  // The REST API's port; 0 unless options.http.
  int http_port() const { return http_port_; }
  // 0 unless the node serves /metrics (--metrics_addr).
  int metrics_port() const { return metrics_port_; }
  // One scrape of the current run's /metrics (FAILED_PRECONDITION without
  // --metrics_addr), and one metric of one scrape (MetricsSnapshot::Value).
  absl::StatusOr<MetricsSnapshot> Metrics(absl::Duration timeout = absl::Seconds(5)) const;
  absl::StatusOr<double> Metric(absl::string_view name, const MetricLabels& labels = {}) const;
  // "127.0.0.1:<port>".
  std::string grpc_addr() const;
  const std::string& data_dir() const { return data_dir_; }
  const std::string& work_dir() const { return work_dir_; }
  const std::string& log_path() const { return log_path_; }
  // The ready file's key=value pairs of the current run.
  const absl::flat_hash_map<std::string, std::string>& ready_info() const { return ready_info_; }
  Process* process() { return process_.get(); }
  std::string LogTail(int lines = 60) const;

  // A channel to the current run (128 MiB messages both ways).
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  std::unique_ptr<kv::v1::Kv::Stub> NewStub() const;

 private:
  CentralProcess(std::string work_dir, CentralProcessOptions options);
  absl::Status Launch();

  const std::string work_dir_;
  const CentralProcessOptions options_;
  const std::string data_dir_;
  const std::string log_path_;
  const std::string ready_path_;
  int runs_ = 0;
  std::unique_ptr<Process> process_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  int metrics_port_ = 0;
  absl::flat_hash_map<std::string, std::string> ready_info_;
  std::shared_ptr<grpc::Channel> channel_;
};

// A channel to `addr` accepting and sending messages up to 128 MiB; over
// TLS verified against the CA file `tls_ca` when it is not empty (no
// client certificate: a client, not a node).
std::shared_ptr<grpc::Channel> NewKvChannel(const std::string& addr,
                                            const std::string& tls_ca = "");

// A client context carrying "authorization: Bearer <token>" (none when
// `token` is empty) and a deadline `timeout` from now.
std::unique_ptr<grpc::ClientContext> NewClientContext(absl::string_view token,
                                                      absl::Duration timeout = absl::Seconds(30));

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_CENTRAL_PROCESS_H_
