// kv-edge: parses flags into EdgeOptions and runs the node.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/deadlock_detection.h"
#include "common/logging.h"
#include "common/termination_signals.h"
#include "edge/edge_node.h"
#include "common/node_flags.h"

ABSL_FLAG(std::string, centrals, "", "Comma-separated gRPC addresses of centrals, preferred first.");
ABSL_FLAG(std::string, grpc_addr, "127.0.0.1:7300", "gRPC listen address; port 0 = any.");
ABSL_FLAG(std::string, metrics_addr, "127.0.0.1:9300", "Prometheus /metrics address; port 0 = any.");
ABSL_FLAG(std::string, http_addr, "",
          "REST API v4 listen address (e.g. 127.0.0.1:7380); port 0 = any; empty = off.");
ABSL_FLAG(std::string, workerd_addr, "",
          "workerd KV binding protocol listen address (e.g. 127.0.0.1:7390); empty = off.");
ABSL_FLAG(absl::Duration, http_idle_timeout, absl::Seconds(60),
          "HTTP: longest wait for the next request on a connection.");
ABSL_FLAG(absl::Duration, http_request_timeout, absl::Seconds(30),
          "HTTP: longest a request body may take to arrive, or a response to be written.");
ABSL_FLAG(int, http_io_threads, 2, "HTTP: threads reading and writing connections (and cache hits).");
ABSL_FLAG(int, http_threads, 16, "HTTP: threads running requests that may wait on a central.");
ABSL_FLAG(std::string, ready_file, "",
          "Written (grpc_port=, metrics_port=, http_port=, workerd_port=, pid=) once serving.");
ABSL_FLAG(std::string, edge_id, "edge", "This edge's name in logs.");
ABSL_FLAG(std::string, tokens_file, "", "Client tokens, as on the centrals.");
ABSL_FLAG(bool, dev, false, "Open mode without auth, loopback addresses only.");
ABSL_FLAG(std::string, default_account, "devaccount", "Account used in dev mode.");
ABSL_FLAG(bool, insecure, false, "Allow a non-loopback address without TLS.");
ABSL_FLAG(std::string, upstream_token, "", "Edge token for invalidation streams.");
ABSL_FLAG(uint64_t, cache_bytes, uint64_t{256} << 20, "Cache bound in bytes, overhead included.");
ABSL_FLAG(uint64_t, recent_writes, 100000,
          "Own writes whose versions are kept for the window (read-your-writes after eviction).");
ABSL_FLAG(int, cache_shards, 16, "Cache shards.");
ABSL_FLAG(absl::Duration, window, absl::Seconds(60), "Longest staleness ever served.");
ABSL_FLAG(absl::Duration, rpc_timeout, absl::Seconds(2), "Deadline of calls to centrals.");
ABSL_FLAG(absl::Duration, stream_silence_timeout, absl::Seconds(3),
          "Re-establish a stream silent this long.");
ABSL_FLAG(absl::Duration, max_clock_offset, absl::Milliseconds(500),
          "The centrals' --max_clock_offset (a failover resumes by time with this margin).");
ABSL_FLAG(absl::Duration, write_deadline, absl::Seconds(5),
          "The centrals' --write_deadline (a failover resumes by time with this margin).");
ABSL_FLAG(uint64_t, max_value_bytes, 25 << 20, "Value size limit.");
ABSL_FLAG(uint64_t, max_metadata_bytes, 1024, "Metadata size limit.");
ABSL_FLAG(absl::Duration, min_ttl, absl::Seconds(60), "Minimum expiration TTL.");
ABSL_FLAG(absl::Duration, min_cache_ttl, absl::Seconds(30), "Minimum cache_ttl.");
ABSL_FLAG(uint64_t, max_bulk_entries, 10000, "Entries per bulk put/delete.");

int main(int argc, char** argv) {
  kv::ConfigureMutexDeadlockDetection();  // before any thread starts
  kv::BlockTerminationSignals();  // before any thread starts

  absl::SetProgramUsageMessage("kv-edge: an edge node of the KV store");
  kv::ListProjectFlagsInHelp();
  absl::ParseCommandLine(argc, argv);
  kv::InitLogging(argv[0]);
  // Debian's abseil checks every Mutex acquisition for lock-order cycles,
  // which costs a graph update per lock on the hot paths; tests keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  kv::edge::EdgeOptions options;
  options.central_addrs =
      absl::StrSplit(absl::GetFlag(FLAGS_centrals), ',', absl::SkipWhitespace());
  options.grpc_addr = absl::GetFlag(FLAGS_grpc_addr);
  options.metrics_addr = absl::GetFlag(FLAGS_metrics_addr);
  options.ready_file = absl::GetFlag(FLAGS_ready_file);
  options.http.addr = absl::GetFlag(FLAGS_http_addr);
  options.http.idle_timeout = absl::GetFlag(FLAGS_http_idle_timeout);
  options.http.request_timeout = absl::GetFlag(FLAGS_http_request_timeout);
  options.http.io_threads = absl::GetFlag(FLAGS_http_io_threads);
  options.http.worker_threads = absl::GetFlag(FLAGS_http_threads);
  options.workerd = options.http;
  options.workerd.addr = absl::GetFlag(FLAGS_workerd_addr);
  options.edge_id = absl::GetFlag(FLAGS_edge_id);
  options.tokens_file = absl::GetFlag(FLAGS_tokens_file);
  options.dev = absl::GetFlag(FLAGS_dev);
  options.default_account = absl::GetFlag(FLAGS_default_account);
  options.insecure = absl::GetFlag(FLAGS_insecure);
  options.tls = kv::TlsFilesFromFlags();
  options.upstream_token = absl::GetFlag(FLAGS_upstream_token);
  options.cache.capacity_bytes = absl::GetFlag(FLAGS_cache_bytes);
  options.recent_writes = absl::GetFlag(FLAGS_recent_writes);
  options.cache.num_shards = absl::GetFlag(FLAGS_cache_shards);
  options.window = absl::GetFlag(FLAGS_window);
  options.rpc_timeout = absl::GetFlag(FLAGS_rpc_timeout);
  options.stream_silence_timeout = absl::GetFlag(FLAGS_stream_silence_timeout);
  options.max_clock_offset = absl::GetFlag(FLAGS_max_clock_offset);
  options.write_deadline = absl::GetFlag(FLAGS_write_deadline);
  options.limits.max_value_bytes = absl::GetFlag(FLAGS_max_value_bytes);
  options.limits.max_metadata_bytes = absl::GetFlag(FLAGS_max_metadata_bytes);
  options.limits.min_ttl = absl::GetFlag(FLAGS_min_ttl);
  options.limits.min_cache_ttl = absl::GetFlag(FLAGS_min_cache_ttl);
  options.limits.max_bulk_entries = absl::GetFlag(FLAGS_max_bulk_entries);

  absl::Status status = kv::edge::RunEdge(options);
  if (!status.ok()) {
    LOG(ERROR) << "kv-edge: " << status;
    return 1;
  }
  return 0;
}
