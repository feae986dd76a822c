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

namespace kv::testing {
namespace {

constexpr int kMaxMessageBytes = 128 << 20;

absl::StatusOr<absl::flat_hash_map<std::string, std::string>> ParseReadyFile(
    const std::string& text) {
  absl::flat_hash_map<std::string, std::string> info;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    info[absl::StripAsciiWhitespace(kv.first)] = std::string(absl::StripAsciiWhitespace(kv.second));
  }
  return info;
}

}  // namespace

std::shared_ptr<grpc::Channel> NewKvChannel(const std::string& addr) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // A fresh connection per channel, not one shared with earlier runs of a
  // node at a reused port.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args);
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
  std::error_code ec;
  std::filesystem::remove(ready_path_, ec);
  std::filesystem::remove(ready_path_ + ".tmp", ec);
  ++runs_;
  {
    // A marker between runs in the shared log.
    FILE* log = fopen(log_path_.c_str(), "a");
    if (log != nullptr) {
      fprintf(log, "===== kv-central run %d =====\n", runs_);
      fclose(log);
    }
  }
  ProcessOptions p;
  p.argv = {options_.binary,
            absl::StrCat("--data_dir=", data_dir_),
            absl::StrCat("--grpc_addr=127.0.0.1:",
                         options_.keep_port && grpc_port_ > 0 ? grpc_port_ : 0),
            absl::StrCat("--ready_file=", ready_path_),
            absl::StrCat("--node_id=", options_.node_id)};
  if (options_.dev) p.argv.push_back("--dev");
  if (!options_.tokens_file.empty()) {
    p.argv.push_back(absl::StrCat("--tokens_file=", options_.tokens_file));
  }
  p.argv.insert(p.argv.end(), options_.extra_flags.begin(), options_.extra_flags.end());
  p.stdout_path = log_path_;
  absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(p);
  if (!process.ok()) return process.status();
  process_ = std::move(*process);

  const absl::Time deadline = absl::Now() + options_.start_timeout;
  absl::Duration backoff = absl::Milliseconds(2);
  while (true) {
    if (!process_->IsRunning()) {
      return absl::UnavailableError(absl::StrCat(
          "kv-central exited before it was ready (", process_->exit_status()->ToString(),
          "); log tail:\n", process_->LogTail(60)));
    }
    if (std::filesystem::exists(ready_path_, ec)) break;
    if (absl::Now() >= deadline) {
      std::string tail = process_->LogTail(60);
      (void)process_->Kill();
      return absl::UnavailableError(absl::StrCat(
          "kv-central wrote no ready file within ", absl::FormatDuration(options_.start_timeout),
          " (killed); log tail:\n", tail));
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(50));
  }
  absl::StatusOr<std::string> text = ReadFileToString(ready_path_);
  if (!text.ok()) return text.status();
  absl::StatusOr<absl::flat_hash_map<std::string, std::string>> info = ParseReadyFile(*text);
  if (!info.ok()) return info.status();
  ready_info_ = std::move(*info);
  auto port = ready_info_.find("grpc_port");
  if (port == ready_info_.end() || !absl::SimpleAtoi(port->second, &grpc_port_) ||
      grpc_port_ <= 0) {
    return absl::InternalError(absl::StrCat("ready file without a valid grpc_port: \"", *text,
                                            "\"; log tail:\n", process_->LogTail(60)));
  }
  if (auto pid = ready_info_.find("pid"); pid != ready_info_.end()) {
    int ready_pid = 0;
    if (!absl::SimpleAtoi(pid->second, &ready_pid) || ready_pid != process_->pid()) {
      return absl::InternalError(absl::StrCat("ready file names pid ", pid->second,
                                              ", the child is ", process_->pid()));
    }
  }
  channel_ = NewKvChannel(grpc_addr());
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
  absl::StatusOr<ExitStatus> status = process_->Terminate(options_.stop_timeout);
  if (!status.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat(status.status().message(), "; log tail:\n", process_->LogTail(60)));
  }
  if (!status->Exited(0)) {
    return absl::InternalError(absl::StrCat("kv-central ended with ", status->ToString(),
                                            " after SIGTERM; log tail:\n", process_->LogTail(60)));
  }
  return absl::OkStatus();
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
