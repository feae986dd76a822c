#include "tests/harness/node_launch.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace kv::testing {
namespace {

ReadyInfo ParseReadyFile(const std::string& text) {
  ReadyInfo info;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    info[absl::StripAsciiWhitespace(kv.first)] = std::string(absl::StripAsciiWhitespace(kv.second));
  }
  return info;
}

absl::StatusOr<LaunchedNode> LaunchOnce(absl::string_view name, const ProcessOptions& options,
                                        const std::string& ready_path, int run,
                                        absl::Duration timeout, absl::Time deadline) {
  std::error_code ec;
  std::filesystem::remove(ready_path, ec);
  std::filesystem::remove(ready_path + ".tmp", ec);
  if (FILE* log = fopen(options.stdout_path.c_str(), "a"); log != nullptr) {
    // A marker between runs in the shared log.
    fprintf(log, "===== %.*s run %d =====\n", static_cast<int>(name.size()), name.data(), run);
    fclose(log);
  }
  absl::StatusOr<std::unique_ptr<Process>> started = Process::Start(options);
  if (!started.ok()) return started.status();
  LaunchedNode node;
  node.process = std::move(*started);
  Process& process = *node.process;

  absl::Duration backoff = absl::Milliseconds(2);
  while (true) {
    if (!process.IsRunning()) {
      return absl::UnavailableError(absl::StrCat(name, " exited before it was ready (",
                                                 process.exit_status()->ToString(),
                                                 "); log tail:\n", process.LogTail(60)));
    }
    if (std::filesystem::exists(ready_path, ec)) break;
    if (absl::Now() >= deadline) {
      std::string tail = process.LogTail(60);
      (void)process.Kill();
      return absl::UnavailableError(absl::StrCat(name, " wrote no ready file within ",
                                                 absl::FormatDuration(timeout),
                                                 " (killed); log tail:\n", tail));
    }
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(50));
  }
  absl::StatusOr<std::string> text = ReadFileToString(ready_path);
  if (!text.ok()) return text.status();
  node.ready_info = ParseReadyFile(*text);
  if (auto pid = node.ready_info.find("pid"); pid != node.ready_info.end()) {
    int ready_pid = 0;
    if (!absl::SimpleAtoi(pid->second, &ready_pid) || ready_pid != process.pid()) {
      return absl::InternalError(
          absl::StrCat("ready file names pid ", pid->second, ", the child is ", process.pid()));
    }
  }
  return node;
}

}  // namespace

absl::StatusOr<LaunchedNode> LaunchNode(absl::string_view name, ProcessOptions options,
                                        const std::string& ready_path, int run,
                                        absl::Duration timeout, bool retry_busy_port) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(20);
  while (true) {
    absl::StatusOr<LaunchedNode> node =
        LaunchOnce(name, options, ready_path, run, timeout, deadline);
    // A port given back by a killed node is anyone's until bound again:
    // another socket may hold it for a while. Try again until the deadline.
    if (node.ok() || !retry_busy_port || absl::Now() + backoff >= deadline ||
        !absl::StrContains(node.status().message(), "Address already in use")) {
      return node;
    }
    fprintf(stderr, "[ harness  ] %.*s run %d: its port is taken; starting it again in %s\n",
            static_cast<int>(name.size()), name.data(), run,
            absl::FormatDuration(backoff).c_str());
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Milliseconds(500));
  }
}

int ReadyPort(const ReadyInfo& info, absl::string_view key) {
  int port = 0;
  auto it = info.find(key);
  if (it == info.end() || !absl::SimpleAtoi(it->second, &port) || port <= 0) return 0;
  return port;
}

absl::Status StopNode(absl::string_view name, Process& process, absl::Duration timeout) {
  absl::StatusOr<ExitStatus> status = process.Terminate(timeout);
  if (!status.ok()) {
    return absl::DeadlineExceededError(
        absl::StrCat(status.status().message(), "; log tail:\n", process.LogTail(60)));
  }
  if (!status->Exited(0)) {
    return absl::InternalError(absl::StrCat(name, " ended with ", status->ToString(),
                                            " after SIGTERM; log tail:\n", process.LogTail(60)));
  }
  return absl::OkStatus();
}

}  // namespace kv::testing
