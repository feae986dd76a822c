#ifndef KV_TOOLS_BENCH_WORKLOADS_H_
#define KV_TOOLS_BENCH_WORKLOADS_H_

#include "tools/bench/options.h"

namespace kv::bench {

// Each returns the process exit code (0 = ran and every check passed).
int RunPutWorkload(const Options& options);
int RunEdgeHitWorkload(const Options& options);
int RunPropagationWorkload(const Options& options);

// "# ..." context line for text reports (CPUs, load average); nothing with
// --json. And the 1-minute load average (-1 if unknown).
void PrintContext(const Options& options, const std::string& what);
double LoadAverage1m();

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_WORKLOADS_H_
