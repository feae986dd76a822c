#ifndef KV_TOOLS_BENCH_REPORT_H_
#define KV_TOOLS_BENCH_REPORT_H_

// Result lines (text or --json), process statistics from /proc, and the live
// progress line on stderr.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "tools/bench/latency_series.h"

namespace kv::bench {

// One measured configuration of a closed-loop workload (put, edge-hit, bare).
struct Result {
  std::string name;
  int concurrency = 0;
  double ops_per_sec = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0;
  uint64_t ops = 0, errors = 0;
  long rss_kb = -1;  // server under test; -1 = unknown
  // Optional extras (negative = not measured / not applicable).
  double hit_fraction = -1;      // responses with cache_status == "HIT"
  double server_cpu = -1;        // cores busy over the measured interval
  double server_us_per_op = -1;  // server CPU time per operation
  double server_cs_per_op = -1;  // server context switches per operation
  double client_cpu = -1;        // this process
  // Cores busy with everything else on the machine during the interval
  // (other builds, the idle central...): the noise indicator.
  double other_cpu = -1;
  double loadavg_before = -1;  // 1-minute load average before the run
  bool pinned = false;
  // Workload-specific figures, printed in this order (JSON keys as given).
  std::vector<std::pair<std::string, double>> extra;
  // Latency over the measured interval, for --plot (may be empty).
  std::vector<SeriesPoint> series;
};

// Prints `r` (one JSON object with --json, else one text line in the
// historical column layout). `baseline_ops` > 0 adds the ratio. Hands the
// series, if any, to the plot (plot.h).
void PrintResult(const Result& r, double baseline_ops, bool json);

// Prints an arbitrary JSON object (one line) to stdout.
void PrintJson(const nlohmann::ordered_json& j);

// Resident set of `pid` in KiB, -1 if unknown.
long RssKb(pid_t pid);
// utime + stime of a whole process in seconds, -1 if unknown.
double ProcessCpuSeconds(pid_t pid);
// Context switches (voluntary + involuntary) of the live threads of `pid`,
// from /proc/PID/task/*/status; -1 if unknown.
double ProcessContextSwitches(pid_t pid);
// utime + stime of this process in seconds.
double SelfCpuSeconds();
// CPU seconds the whole machine spent busy (user, nice, system, irq,
// softirq, steal) since boot, from /proc/stat; -1 if unknown.
double MachineBusySeconds();

// Prints a progress line on stderr, rewritten in place ("\r") twice a second
// while alive, when stderr is a terminal; nothing otherwise. `line` returns
// the text; it is called from the progress thread.
class Progress {
 public:
  Progress(std::string label, absl::Duration total, std::function<std::string()> line);
  ~Progress();  // stops and clears the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

 private:
  void Run();
  std::string label_;
  absl::Duration total_;
  std::function<std::string()> line_;
  bool tty_;
  absl::Notification stop_;
  std::thread thread_;
};

// Whether stderr is a terminal.
bool StderrIsTty();

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_REPORT_H_
