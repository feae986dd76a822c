#ifndef KV_TOOLS_BENCH_ALTERNATING_H_
#define KV_TOOLS_BENCH_ALTERNATING_H_

// A measurement and its same-run baseline taken in turns: on a shared
// machine whose speed drifts over minutes, one back-to-back pair can land
// on either side of a drift; alternating them N times (baseline first in
// even rounds, ours first in odd ones) weighs the drift on both alike.

#include <functional>
#include <string>

#include "tools/bench/report.h"

namespace kv::bench {

struct AlternatingRuns {
  int rounds = 1;
  // Names in the summary line and its JSON keys ("edge", "bare").
  std::string ours_name, base_name;
  // Runs one measurement of each for round `round` (0-based).
  std::function<Result(int round)> run_ours, run_base;
  // Checks a round's pair after it is printed; false marks the run failed
  // (it goes on).
  std::function<bool(const Result& ours, const Result& base, int round)> check;
};

// Runs the rounds, prints each pair (ours with its round's ratio), then a
// summary: the ratio of the two sides' total rates (ops over seconds
// measured, each side summed over its rounds), the per-round ratios' min, median and
// max, and the server CPU per op of each side. Returns 0, or 1 when a
// result had errors or `check` failed.
int RunAlternating(const AlternatingRuns& runs, bool json);

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_ALTERNATING_H_
