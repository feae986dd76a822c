#include "tools/bench/alternating.h"

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kv::bench {

int RunAlternating(const AlternatingRuns& runs, bool json) {
  uint64_t ours_ops = 0, base_ops = 0;
  // Seconds measured on each side: the rounds need not be equally long
  // (db_bench runs whole seconds), so the totals compare rates, not counts.
  double ours_s = 0, base_s = 0;
  double ours_cpu_s = 0, base_cpu_s = 0;
  std::vector<double> ratios;
  int rc = 0;
  for (int round = 0; round < runs.rounds; ++round) {
    Result ours, base;
    if (round % 2 == 0) {
      base = runs.run_base(round);
      ours = runs.run_ours(round);
    } else {
      ours = runs.run_ours(round);
      base = runs.run_base(round);
    }
    if (runs.rounds > 1) {
      for (Result* r : {&ours, &base}) r->name = absl::StrCat(r->name, " #", round + 1);
    }
    PrintResult(base, 0, json);
    PrintResult(ours, base.ops_per_sec, json);
    if (ours.errors > 0 || base.errors > 0) rc = 1;
    if (runs.check && !runs.check(ours, base, round)) rc = 1;
    ours_ops += ours.ops;
    base_ops += base.ops;
    if (ours.ops_per_sec > 0) ours_s += static_cast<double>(ours.ops) / ours.ops_per_sec;
    if (base.ops_per_sec > 0) base_s += static_cast<double>(base.ops) / base.ops_per_sec;
    if (ours.server_us_per_op > 0) ours_cpu_s += ours.server_us_per_op * ours.ops / 1e6;
    if (base.server_us_per_op > 0) base_cpu_s += base.server_us_per_op * base.ops / 1e6;
    if (base.ops_per_sec > 0) ratios.push_back(ours.ops_per_sec / base.ops_per_sec);
  }
  if (runs.rounds < 2) return rc;
  std::sort(ratios.begin(), ratios.end());
  const double ours_rate = ours_s > 0 ? static_cast<double>(ours_ops) / ours_s : 0;
  const double base_rate = base_s > 0 ? static_cast<double>(base_ops) / base_s : 0;
  const double total_ratio = base_rate > 0 ? ours_rate / base_rate : 0;
  const size_t n = ratios.size();
  const double median = n == 0       ? 0
                        : n % 2 == 1 ? ratios[n / 2]
                                     : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
  const double ours_us = ours_ops > 0 && ours_cpu_s > 0 ? 1e6 * ours_cpu_s / ours_ops : -1;
  const double base_us = base_ops > 0 && base_cpu_s > 0 ? 1e6 * base_cpu_s / base_ops : -1;
  if (json) {
    PrintJson({{"name", "interleaved"},
               {"rounds", runs.rounds},
               {runs.ours_name + "_ops", ours_ops},
               {runs.base_name + "_ops", base_ops},
               {runs.ours_name + "_ops_per_sec", ours_rate},
               {runs.base_name + "_ops_per_sec", base_rate},
               {"ratio", total_ratio},
               {"ratio_min", ratios.empty() ? 0 : ratios.front()},
               {"ratio_median", median},
               {"ratio_max", ratios.empty() ? 0 : ratios.back()},
               {runs.ours_name + "_server_us_per_op", ours_us},
               {runs.base_name + "_server_us_per_op", base_us}});
  } else {
    std::string cpu;
    if (ours_us > 0) absl::StrAppendFormat(&cpu, "; server cpu per op: %s %.1f us", runs.ours_name, ours_us);
    if (base_us > 0) absl::StrAppendFormat(&cpu, ", %s %.1f us", runs.base_name, base_us);
    std::cout << absl::StrFormat(
        "interleaved %d rounds: %s %d ops (%.0f/s), %s %d ops (%.0f/s), ratio of the rates "
        "%.2fx (per round: min %.2fx, median %.2fx, max %.2fx)%s\n",
        runs.rounds, runs.ours_name, ours_ops, ours_rate, runs.base_name, base_ops, base_rate,
        total_ratio,
        ratios.empty() ? 0 : ratios.front(), median, ratios.empty() ? 0 : ratios.back(), cpu);
  }
  return rc;
}

}  // namespace kv::bench
