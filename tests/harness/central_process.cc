#include "tests/harness/central_process.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/logging.h"
#include "common/tls.h"
#include "tests/harness/node_launch.h"

namespace kv::testing {
namespace {

constexpr int kMaxMessageBytes = 128 << 20;

}  // namespace

std::shared_ptr<grpc::Channel> NewKvChannel(const std::string& addr, const std::string& tls_ca) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ClientChannelCredentials(tls_ca);
  // A CA that cannot be read is a broken test setup.
  if (!credentials.ok()) LOG(FATAL) << credentials.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // A fresh connection per channel, not one shared with earlier runs of a
  // node at a reused port.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(addr, *credentials, args);
}

std::unique_ptr<grpc::ClientContext> NewClientContext(absl::string_view token,
                                                      absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

CentralProcess::CentralProcess(std::string work_dir, CentralProcessOptions options)
    : work_dir_(std::move(work_dir)),
      options_(std::move(options)),
      data_dir_(work_dir_ + "/data"),
      log_path_(work_dir_ + "/central.log"),
      ready_path_(work_dir_ + "/central.ready") {}

CentralProcess::~CentralProcess() {
  if (process_ != nullptr) (void)process_->Kill();
}

absl::StatusOr<std::unique_ptr<CentralProcess>> CentralProcess::Start(
    const std::string& work_dir, CentralProcessOptions options) {
  if (options.binary.empty()) {
    const char* bin = getenv("KV_CENTRAL_BIN");
    if (bin == nullptr || *bin == '\0') {
      return absl::FailedPreconditionError(
          "KV_CENTRAL_BIN is not set (ctest sets it to the kv-central binary)");
    }
    options.binary = bin;
  }
  std::unique_ptr<CentralProcess> central(new CentralProcess(work_dir, std::move(options)));
  std::error_code ec;
  std::filesystem::create_directories(central->data_dir_, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", central->data_dir_, ": ", ec.message()));
  if (absl::Status s = central->Launch(); !s.ok()) return s;
  return central;
}

std::string CentralProcess::grpc_addr() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

std::string CentralProcess::LogTail(int lines) const {
  if (process_ != nullptr) return process_->LogTail(lines);
  return "";
}

absl::Status CentralProcess::Launch() {
  ProcessOptions p;
  p.argv = {options_.binary,
            absl::StrCat("--data_dir=", data_dir_),
            absl::StrCat("--grpc_addr=127.0.0.1:",
                         options_.keep_port && grpc_port_ > 0 ? grpc_port_ : 0),
            absl::StrCat("--ready_file=", ready_path_),
            absl::StrCat("--node_id=", options_.node_id)};
  if (options_.dev) p.argv.push_back("--dev");
  if (options_.http) {
    p.argv.push_back(absl::StrCat("--http_addr=127.0.0.1:",
                                  options_.keep_port && http_port_ > 0 ? http_port_ : 0));
  }
  if (!options_.tokens_file.empty()) {
    p.argv.push_back(absl::StrCat("--tokens_file=", options_.tokens_file));
  }
  p.argv.insert(p.argv.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  p.stdout_path = log_path_;
  absl::StatusOr<LaunchedNode> node =
      LaunchNode("kv-central", std::move(p), ready_path_, ++runs_, options_.start_timeout,
                 /*retry_busy_port=*/options_.keep_port && grpc_port_ > 0);
  if (!node.ok()) return node.status();
  process_ = std::move(node->process);
  ready_info_ = std::move(node->ready_info);
  grpc_port_ = ReadyPort(ready_info_, "grpc_port");
  http_port_ = ReadyPort(ready_info_, "http_port");
  metrics_port_ = ReadyPort(ready_info_, "metrics_port");
  if (options_.http && http_port_ == 0) {
    return absl::InternalError(absl::StrCat("ready file without a valid http_port; log tail:\n",
                                            process_->LogTail(60)));
  }
  if (grpc_port_ == 0) {
    return absl::InternalError(absl::StrCat("ready file without a valid grpc_port; log tail:\n",
                                            process_->LogTail(60)));
  }
  channel_ = NewKvChannel(grpc_addr(), options_.tls_ca);
  return absl::OkStatus();
}

absl::Status CentralProcess::Restart() {
  if (process_ != nullptr && process_->IsRunning()) {
    if (absl::Status s = Stop(); !s.ok()) return s;
  }
  return Launch();
}

absl::Status CentralProcess::StartAgain() {
  if (process_ != nullptr && process_->IsRunning()) {
    return absl::FailedPreconditionError("kv-central is still running");
  }
  return Launch();
}

absl::Status CentralProcess::Kill() {
  if (process_ == nullptr) return absl::OkStatus();
  return process_->Kill();
}

absl::Status CentralProcess::WipeDataDir() {
  if (IsRunning()) return absl::FailedPreconditionError("kv-central is still running");
  std::error_code ec;
  std::filesystem::remove_all(data_dir_, ec);
  if (ec) return absl::InternalError(absl::StrCat("rm -r ", data_dir_, ": ", ec.message()));
  std::filesystem::create_directories(data_dir_, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", data_dir_, ": ", ec.message()));
  return absl::OkStatus();
}

absl::Status CentralProcess::Stop() {
  if (process_ == nullptr) return absl::OkStatus();
  return StopNode("kv-central", *process_, options_.stop_timeout);
}

absl::Status CentralProcess::Pause() {
  if (process_ == nullptr) return absl::FailedPreconditionError("not started");
  return process_->Pause();
}

absl::Status CentralProcess::Resume() {
  if (process_ == nullptr) return absl::FailedPreconditionError("not started");
  return process_->Resume();
}

bool CentralProcess::IsRunning() { return process_ != nullptr && process_->IsRunning(); }

std::unique_ptr<kv::v1::Kv::Stub> CentralProcess::NewStub() const {
  return kv::v1::Kv::NewStub(channel_);
}

}  // namespace kv::testing

namespace kv::testing {

absl::StatusOr<MetricsSnapshot> CentralProcess::Metrics(absl::Duration timeout) const {
  if (metrics_port_ == 0) {
    return absl::FailedPreconditionError("this central serves no /metrics (--metrics_addr)");
  }
  return ScrapeMetrics(metrics_port_, timeout, options_.tls_ca, options_.metrics_token);
}

absl::StatusOr<double> CentralProcess::Metric(absl::string_view name,
                                              const MetricLabels& labels) const {
  absl::StatusOr<MetricsSnapshot> snapshot = Metrics();
  if (!snapshot.ok()) return snapshot.status();
  return snapshot->Value(name, labels);
}

}  // namespace kv::testing
