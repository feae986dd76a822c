#ifndef KV_TESTS_HARNESS_FAULT_PROXY_H_
#define KV_TESTS_HARNESS_FAULT_PROXY_H_

// A real kv-faultproxy process for multi-process tests: start it, add links
// (each a listener on 127.0.0.1 port 0 forwarding to a node), point them at
// nodes, and make network faults through its control API:
//
//   ASSERT_OK_AND_ASSIGN(auto proxy, FaultProxy::Start(dir->Path("proxy")));
//   ASSERT_OK_AND_ASSIGN(int port, proxy->AddLink("c1"));      // no target yet
//   ... start a node that dials 127.0.0.1:<port> ...
//   ASSERT_OK(proxy->SetTarget("c1", central->grpc_addr()));
//   ASSERT_OK(proxy->SetFaults("c1", ProxyFaults::Blackhole()));  // partition
//   ASSERT_OK(proxy->Clear("c1"));                                // heal

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/harness/process.h"

namespace kv::testing {

// Which way a fault applies. Up: client -> target (into the link's
// listener); down: target -> client.
enum class ProxyDirection { kNone, kUp, kDown, kBoth };

// The whole fault set of one link (SetFaults replaces what was there).
struct ProxyFaults {
  // Added per chunk, plus a uniform random part in [0, jitter]; order kept.
  absl::Duration up_latency = absl::ZeroDuration();
  absl::Duration up_jitter = absl::ZeroDuration();
  absl::Duration down_latency = absl::ZeroDuration();
  absl::Duration down_jitter = absl::ZeroDuration();
  // Nothing moves that way; connections stay open; data waits and flows
  // when cleared (a partition that heals).
  ProxyDirection blackhole = ProxyDirection::kNone;
  // Bytes are read and discarded (the stream is torn).
  ProxyDirection drop = ProxyDirection::kNone;
  // New connections get ECONNREFUSED; current ones are untouched.
  bool refuse = false;

  // Latency (and jitter) both ways.
  static ProxyFaults Latency(absl::Duration latency,
                             absl::Duration jitter = absl::ZeroDuration());
  static ProxyFaults Blackhole(ProxyDirection direction = ProxyDirection::kBoth);
  static ProxyFaults Refuse();
  // The control API's JSON body for these faults.
  std::string ToJson() const;
};

// A link's counters (see docs/faultproxy.md).
struct ProxyLinkCounters {
  uint64_t bytes_up = 0;
  uint64_t bytes_down = 0;
  uint64_t dropped_bytes_up = 0;
  uint64_t dropped_bytes_down = 0;
  uint64_t connections_accepted = 0;
  uint64_t connections_active = 0;
  uint64_t connections_reset = 0;
  uint64_t rejected_no_target = 0;
  uint64_t upstream_connect_failures = 0;
};

struct FaultProxyOptions {
  // The kv-faultproxy binary. Default: $KV_FAULTPROXY_BIN, else the path
  // compiled into kv_testing.
  std::string binary;
  // How long the proxy may take to write its ready file. Default: 10 s.
  absl::Duration start_timeout = absl::Seconds(10);
  // Deadline of each control request. Default: 10 s.
  absl::Duration request_timeout = absl::Seconds(10);
};

// One kv-faultproxy process; its log is `work_dir`/faultproxy.log. Every
// method is one control request with a deadline; errors come back with the
// proxy's message and a code from its HTTP status (400 INVALID_ARGUMENT,
// 404 NOT_FOUND, 409 ALREADY_EXISTS, 503 UNAVAILABLE), UNAVAILABLE or
// DEADLINE_EXCEEDED when the proxy cannot be reached.
// Not thread-safe (one test thread drives it). The destructor SIGKILLs the
// process, which drops every proxied connection.
class FaultProxy {
 public:
  // FAILED_PRECONDITION when no binary is known; UNAVAILABLE (with the log
  // tail) when the proxy exits or is not ready in time.
  static absl::StatusOr<std::unique_ptr<FaultProxy>> Start(const std::string& work_dir,
                                                           FaultProxyOptions options = {});
  ~FaultProxy();

  // Adds a link listening on 127.0.0.1 port 0; `target` ("127.0.0.1:7100")
  // may be empty and set later. Returns the listen port.
  absl::StatusOr<int> AddLink(absl::string_view name, absl::string_view target = "");
  // The listen port of a link added here (0 when unknown), and
  // "127.0.0.1:<port>".
  int port(absl::string_view name) const;
  std::string addr(absl::string_view name) const;
  // New connections go to `target` ("" unsets: they are reset). Current
  // connections keep theirs; Reset() them to move them.
  absl::Status SetTarget(absl::string_view name, absl::string_view target);
  // Replaces the link's faults.
  absl::Status SetFaults(absl::string_view name, const ProxyFaults& faults);
  // Changes only the fields of a raw JSON patch (docs/faultproxy.md).
  absl::Status PatchFaults(absl::string_view name, absl::string_view json_patch);
  // No faults on the link / on every link.
  absl::Status Clear(absl::string_view name);
  absl::Status ClearAll();
  // RST to both sides of every current connection. Returns how many.
  absl::StatusOr<int> Reset(absl::string_view name);
  absl::StatusOr<ProxyLinkCounters> Counters(absl::string_view name);
  absl::Status RemoveLink(absl::string_view name);
  // SIGTERM; OK when it exits 0.
  absl::Status Stop();

  int control_port() const { return control_port_; }
  Process* process() { return process_.get(); }
  std::string LogTail(int lines = 60) const;

 private:
  FaultProxy(FaultProxyOptions options, std::unique_ptr<Process> process, int control_port)
      : options_(std::move(options)), process_(std::move(process)), control_port_(control_port) {}
  // One request; the response body of a 2xx, else an error.
  absl::StatusOr<std::string> Call(absl::string_view method, const std::string& path,
                                   const std::string& body);

  const FaultProxyOptions options_;
  std::unique_ptr<Process> process_;
  const int control_port_;
  absl::flat_hash_map<std::string, int> ports_;
};

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_FAULT_PROXY_H_
