// Helpers shared by the workloads: the context line and waiting for an
// edge's invalidation stream.
#include <sched.h>

#include <fstream>
#include <iostream>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/bench/owned_process.h"
#include "tools/bench/prom_scrape.h"
#include "tools/bench/workloads.h"

namespace kv::bench {

double LoadAverage1m() {
  std::ifstream in("/proc/loadavg");
  double v = -1;
  if (!(in >> v)) return -1;
  return v;
}

void PrintContext(const Options& o, const std::string& what) {
  if (o.json) return;
  std::cout << absl::StrFormat(
                   "# kv-bench %s: %d CPUs, load average %.2f before the run "
                   "(other processes' work makes figures noisy)",
                   what, static_cast<int>(InitialCpus().size()), LoadAverage1m())
            << std::endl;
}

}  // namespace kv::bench
