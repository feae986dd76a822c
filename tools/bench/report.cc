#include "tools/bench/report.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "tools/bench/plot.h"

namespace kv::bench {
namespace {

double Round(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

}  // namespace

void PrintJson(const nlohmann::ordered_json& j) { std::cout << j.dump() << std::endl; }

void PrintResult(const Result& r, double baseline_ops, bool json) {
  AddPlotSeries(absl::StrCat(r.name, " c=", r.concurrency), r.series);
  if (json) {
    nlohmann::ordered_json j;
    j["name"] = r.name;
    j["concurrency"] = r.concurrency;
    j["ops"] = r.ops;
    j["ops_per_sec"] = Round(r.ops_per_sec, 1);
    j["p50_us"] = Round(r.p50_us, 1);
    j["p90_us"] = Round(r.p90_us, 1);
    j["p99_us"] = Round(r.p99_us, 1);
    j["p999_us"] = Round(r.p999_us, 1);
    j["errors"] = r.errors;
    j["server_rss_kb"] = r.rss_kb;
    j["ratio_to_baseline"] = Round(baseline_ops > 0 ? r.ops_per_sec / baseline_ops : 0, 3);
    if (r.hit_fraction >= 0) j["hit_fraction"] = Round(r.hit_fraction, 6);
    if (r.server_cpu >= 0) j["server_cpu"] = Round(r.server_cpu, 3);
    if (r.server_us_per_op >= 0) j["server_us_per_op"] = Round(r.server_us_per_op, 2);
    if (r.server_cs_per_op >= 0) j["server_cs_per_op"] = Round(r.server_cs_per_op, 2);
    if (r.client_cpu >= 0) j["client_cpu"] = Round(r.client_cpu, 3);
    if (r.other_cpu >= 0) j["other_cpu"] = Round(r.other_cpu, 3);
    if (r.loadavg_before >= 0) j["loadavg_before"] = Round(r.loadavg_before, 2);
    if (r.hit_fraction >= 0 || r.server_cpu >= 0) j["pinned"] = r.pinned;
    for (const auto& [key, value] : r.extra) j[key] = Round(value, 3);
    PrintJson(j);
    return;
  }
  std::string extra;
  if (r.rss_kb >= 0) absl::StrAppendFormat(&extra, "  rss %.1f MiB", r.rss_kb / 1024.0);
  if (r.hit_fraction >= 0) absl::StrAppendFormat(&extra, "  hit %.2f%%", 100 * r.hit_fraction);
  if (r.server_cpu >= 0) {
    absl::StrAppendFormat(&extra, "  server cpu %.2f (%.1f us/op)", r.server_cpu,
                          r.server_us_per_op);
  }
  if (r.server_cs_per_op >= 0) {
    absl::StrAppendFormat(&extra, "  server cs %.1f/op", r.server_cs_per_op);
  }
  if (r.client_cpu >= 0) absl::StrAppendFormat(&extra, "  client cpu %.2f", r.client_cpu);
  if (r.other_cpu >= 0) absl::StrAppendFormat(&extra, "  other cpu %.2f", r.other_cpu);
  for (const auto& [key, value] : r.extra) absl::StrAppendFormat(&extra, "  %s %g", key, value);
  if (baseline_ops > 0) absl::StrAppendFormat(&extra, "  ratio %.2fx", r.ops_per_sec / baseline_ops);
  std::cout << absl::StrFormat(
                   "%-28s c=%-3d %9.0f ops/s  p50 %7.0f us  p90 %7.0f us  p99 %7.0f us  "
                   "p99.9 %7.0f us  errors %d%s",
                   r.name, r.concurrency, r.ops_per_sec, r.p50_us, r.p90_us, r.p99_us,
                   r.p999_us, r.errors, extra)
            << std::endl;
}

long RssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    long kb;
    if (line.rfind("VmRSS:", 0) == 0 &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(
                             absl::StripSuffix(absl::StripPrefix(line, "VmRSS:"), "kB")),
                         &kb)) {
      return kb;
    }
  }
  return -1;
}

double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return -1;
  const size_t rp = line.rfind(')');
  if (rp == std::string::npos || rp + 2 > line.size()) return -1;
  std::istringstream rest(line.substr(rp + 2));
  std::string tok;
  double ut = -1, st = -1;
  for (int field = 3; rest >> tok; ++field) {
    if (field == 14 && !absl::SimpleAtod(tok, &ut)) return -1;
    if (field == 15) {
      if (!absl::SimpleAtod(tok, &st)) return -1;
      break;
    }
  }
  if (ut < 0 || st < 0) return -1;
  return (ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ProcessContextSwitches(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator tasks(absl::StrCat("/proc/", pid, "/task"), ec);
  if (ec) return -1;
  double total = 0;
  for (const std::filesystem::directory_entry& task : tasks) {
    std::ifstream in(task.path() / "status");
    std::string line;
    while (std::getline(in, line)) {
      for (absl::string_view prefix :
           {"voluntary_ctxt_switches:", "nonvoluntary_ctxt_switches:"}) {
        double n = 0;
        if (absl::StartsWith(line, prefix) &&
            absl::SimpleAtod(absl::StripAsciiWhitespace(
                                 absl::string_view(line).substr(prefix.size())),
                             &n)) {
          total += n;
        }
      }
    }
  }
  return total;
}

double SelfCpuSeconds() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double MachineBusySeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user, nice, system, idle, iowait, irq, softirq, steal;
  if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu") {
    return -1;
  }
  return (user + nice + system + irq + softirq + steal) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

bool StderrIsTty() { return isatty(STDERR_FILENO) == 1; }

Progress::Progress(std::string label, absl::Duration total, std::function<std::string()> line)
    : label_(std::move(label)), total_(total), line_(std::move(line)), tty_(StderrIsTty()) {
  thread_ = std::thread([this] { Run(); });
}

Progress::~Progress() {
  stop_.Notify();
  thread_.join();
  if (tty_) std::cerr << "\r\033[K" << std::flush;
}

void Progress::Run() {
  // Only a terminal gets the line (rewritten twice a second): logs and
  // pipes (CI, --json into a file) stay free of progress noise.
  if (!tty_) return;
  const absl::Time start = absl::Now();
  while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(500))) {
    const std::string text = absl::StrFormat(
        "[%s] %5.1f/%.1f s  %s", label_, absl::ToDoubleSeconds(absl::Now() - start),
        absl::ToDoubleSeconds(total_), line_());
    std::cerr << "\r\033[K" << text << std::flush;
  }
}

}  // namespace kv::bench
