// kv-faultproxy: a TCP proxy with named links whose faults (latency,
// blackhole, drop, refuse, reset) are set at run time over a small HTTP
// control API. See docs/faultproxy.md.
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "common/deadlock_detection.h"
#include "common/logging.h"
#include "common/ready_file.h"
#include "common/termination_signals.h"
#include "tools/faultproxy/control_api.h"
#include "tools/faultproxy/http_server.h"
#include "tools/faultproxy/link_set.h"
#include "tools/faultproxy/link_spec.h"

ABSL_FLAG(std::string, control_addr, "127.0.0.1:0", "Control API listen address; port 0 = any.");
ABSL_FLAG(std::string, ready_file, "",
          "Written (control_port=, pid=, link_<name>_port=) once serving.");
ABSL_FLAG(std::vector<std::string>, links, {},
          "Links to create at startup: NAME[@LISTEN_HOST:PORT][=TARGET_HOST:PORT],...");
ABSL_FLAG(uint64_t, max_queued_bytes, 4 << 20,
          "Bytes one direction of a connection may hold (delayed or blackholed) before the "
          "proxy stops reading from its sender.");

namespace {

int Fail(const std::string& message) {
  std::cerr << "kv-faultproxy: " << message << std::endl;
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  kv::ConfigureMutexDeadlockDetection();  // before any thread starts
  kv::BlockTerminationSignals();  // before any thread starts
  signal(SIGPIPE, SIG_IGN);
  absl::SetProgramUsageMessage(
      "kv-faultproxy: a TCP fault proxy for tests (latency, blackhole, drop, refuse, reset)");
  absl::ParseCommandLine(argc, argv);
  kv::InitLogging(argv[0]);

  if (absl::GetFlag(FLAGS_max_queued_bytes) == 0) return Fail("--max_queued_bytes must be > 0");
  absl::StatusOr<kv::faultproxy::HostPort> control_addr =
      kv::faultproxy::ParseHostPort(absl::GetFlag(FLAGS_control_addr), true);
  if (!control_addr.ok()) return Fail(absl::StrCat("--control_addr: ", control_addr.status().message()));

  kv::faultproxy::LinkSet links(absl::GetFlag(FLAGS_max_queued_bytes));
  std::vector<std::pair<std::string, std::string>> ready = {{"pid", std::to_string(getpid())}};
  for (const std::string& text : absl::GetFlag(FLAGS_links)) {
    absl::StatusOr<kv::faultproxy::LinkSpec> spec = kv::faultproxy::ParseLinkSpec(text);
    if (!spec.ok()) return Fail(absl::StrCat("--links: ", spec.status().message()));
    auto link = links.Add(spec->name, spec->listen, spec->target);
    if (!link.ok()) return Fail(absl::StrCat("--links ", text, ": ", link.status().message()));
    ready.emplace_back(absl::StrCat("link_", spec->name, "_port"),
                       std::to_string((*link)->listen_port()));
    std::cout << "link " << spec->name << " listening on " << spec->listen.host << ":"
              << (*link)->listen_port() << std::endl;
  }

  absl::StatusOr<std::unique_ptr<kv::faultproxy::HttpServer>> server =
      kv::faultproxy::HttpServer::Start(*control_addr, [&links](const auto& request) {
        return kv::faultproxy::HandleControlRequest(links, request);
      });
  if (!server.ok()) return Fail(absl::StrCat("control API: ", server.status().message()));
  ready.emplace_back("control_port", std::to_string((*server)->port()));
  std::cout << "control API on " << control_addr->host << ":" << (*server)->port() << std::endl;
  if (const std::string path = absl::GetFlag(FLAGS_ready_file); !path.empty()) {
    if (absl::Status s = kv::WriteReadyFile(path, ready); !s.ok()) {
      return Fail(std::string(s.message()));
    }
  }

  const int sig = kv::WaitForTerminationSignal();
  LOG(INFO) << "kv-faultproxy: signal " << sig << ", stopping";
  server->reset();
  return 0;  // links close with `links`
}
