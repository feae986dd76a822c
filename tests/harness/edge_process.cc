#include "tests/harness/edge_process.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/harness/central_process.h"
#include "tests/harness/node_launch.h"

namespace kv::testing {

EdgeProcess::EdgeProcess(std::string work_dir, EdgeProcessOptions options)
    : work_dir_(std::move(work_dir)),
      options_(std::move(options)),
      log_path_(work_dir_ + "/edge.log"),
      ready_path_(work_dir_ + "/edge.ready") {}

EdgeProcess::~EdgeProcess() {
  if (process_ != nullptr) (void)process_->Kill();
}

absl::StatusOr<std::unique_ptr<EdgeProcess>> EdgeProcess::Start(const std::string& work_dir,
                                                                EdgeProcessOptions options) {
  if (options.binary.empty()) {
    const char* bin = getenv("KV_EDGE_BIN");
    if (bin == nullptr || *bin == '\0') {
      return absl::FailedPreconditionError(
          "KV_EDGE_BIN is not set (the integration tests set it to the kv-edge binary)");
    }
    options.binary = bin;
  }
  if (options.centrals.empty()) {
    return absl::FailedPreconditionError("an edge needs at least one central address");
  }
  std::unique_ptr<EdgeProcess> edge(new EdgeProcess(work_dir, std::move(options)));
  std::error_code ec;
  std::filesystem::create_directories(edge->work_dir_, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", edge->work_dir_, ": ", ec.message()));
  if (absl::Status s = edge->Launch(); !s.ok()) return s;
  return edge;
}

std::string EdgeProcess::grpc_addr() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

pid_t EdgeProcess::pid() const { return process_ != nullptr ? process_->pid() : -1; }

std::string EdgeProcess::LogTail(int lines) const {
  if (process_ != nullptr) return process_->LogTail(lines);
  return "";
}

absl::Status EdgeProcess::Launch() {
  ProcessOptions p;
  p.argv = {options_.binary,
            absl::StrCat("--centrals=", absl::StrJoin(options_.centrals, ",")),
            "--grpc_addr=127.0.0.1:0",
            "--metrics_addr=127.0.0.1:0",
            absl::StrCat("--ready_file=", ready_path_),
            absl::StrCat("--edge_id=", options_.edge_id)};
  if (options_.dev) p.argv.push_back("--dev");
  if (options_.http) p.argv.push_back("--http_addr=127.0.0.1:0");
  if (options_.workerd) p.argv.push_back("--workerd_addr=127.0.0.1:0");
  if (!options_.tokens_file.empty()) {
    p.argv.push_back(absl::StrCat("--tokens_file=", options_.tokens_file));
  }
  p.argv.insert(p.argv.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  p.stdout_path = log_path_;
  absl::StatusOr<LaunchedNode> node =
      LaunchNode("kv-edge", std::move(p), ready_path_, ++runs_, options_.start_timeout);
  if (!node.ok()) return node.status();
  process_ = std::move(node->process);
  ready_info_ = std::move(node->ready_info);
  grpc_port_ = ReadyPort(ready_info_, "grpc_port");
  metrics_port_ = ReadyPort(ready_info_, "metrics_port");
  http_port_ = ReadyPort(ready_info_, "http_port");
  workerd_port_ = ReadyPort(ready_info_, "workerd_port");
  if ((options_.http && http_port_ == 0) || (options_.workerd && workerd_port_ == 0)) {
    return absl::InternalError(absl::StrCat(
        "ready file without the http_port/workerd_port asked for; log tail:\n",
        process_->LogTail(60)));
  }
  if (grpc_port_ == 0 || metrics_port_ == 0) {
    return absl::InternalError(absl::StrCat(
        "ready file without valid grpc_port and metrics_port; log tail:\n",
        process_->LogTail(60)));
  }
  channel_ = NewKvChannel(grpc_addr(), options_.tls_ca);
  return absl::OkStatus();
}

absl::Status EdgeProcess::Restart() {
  if (process_ != nullptr && process_->IsRunning()) {
    if (absl::Status s = Stop(); !s.ok()) return s;
  }
  return Launch();
}

absl::Status EdgeProcess::StartAgain() {
  if (process_ != nullptr && process_->IsRunning()) {
    return absl::FailedPreconditionError("kv-edge is still running");
  }
  return Launch();
}

absl::Status EdgeProcess::Kill() {
  if (process_ == nullptr) return absl::OkStatus();
  return process_->Kill();
}

absl::Status EdgeProcess::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  return StopNode("kv-edge", *process_, options_.stop_timeout);
}

absl::Status EdgeProcess::Pause() {
  if (process_ == nullptr) return absl::FailedPreconditionError("not started");
  return process_->Pause();
}

absl::Status EdgeProcess::Resume() {
  if (process_ == nullptr) return absl::FailedPreconditionError("not started");
  return process_->Resume();
}

bool EdgeProcess::IsRunning() { return process_ != nullptr && process_->IsRunning(); }

std::unique_ptr<kv::v1::Kv::Stub> EdgeProcess::NewStub() const {
  return kv::v1::Kv::NewStub(channel_);
}

absl::StatusOr<MetricsSnapshot> EdgeProcess::Metrics(absl::Duration timeout) const {
  return ScrapeMetrics(metrics_port_, timeout, options_.tls_ca, options_.metrics_token);
}

absl::StatusOr<double> EdgeProcess::Metric(absl::string_view name,
                                           const MetricLabels& labels) const {
  absl::StatusOr<MetricsSnapshot> snapshot = Metrics();
  if (!snapshot.ok()) return snapshot.status();
  return snapshot->Value(name, labels);
}

absl::StatusOr<MemoryUsage> ReadMemoryUsage(pid_t pid) {
  absl::StatusOr<std::string> status = ReadFileToString(absl::StrCat("/proc/", pid, "/status"));
  if (!status.ok()) return status.status();
  MemoryUsage usage;
  bool rss = false;
  bool hwm = false;
  for (absl::string_view line : absl::StrSplit(*status, '\n')) {
    int64_t* field = nullptr;
    if (absl::ConsumePrefix(&line, "VmRSS:")) {
      field = &usage.rss_bytes;
      rss = true;
    } else if (absl::ConsumePrefix(&line, "VmHWM:")) {
      field = &usage.peak_rss_bytes;
      hwm = true;
    } else {
      continue;
    }
    line = absl::StripAsciiWhitespace(line);
    int64_t kib = 0;
    if (!absl::ConsumeSuffix(&line, " kB") ||
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &kib)) {
      return absl::InternalError(absl::StrCat("/proc/", pid, "/status: bad line \"", line, "\""));
    }
    *field = kib * 1024;
  }
  if (!rss || !hwm) {
    return absl::InternalError(absl::StrCat("/proc/", pid, "/status has no VmRSS/VmHWM"));
  }
  return usage;
}

}  // namespace kv::testing
