#ifndef KV_TOOLS_BENCH_WORKLOADS_H_
#define KV_TOOLS_BENCH_WORKLOADS_H_

#include "tools/bench/options.h"
#include "tools/bench/owned_process.h"
#include "tools/bench/report.h"

namespace kv::bench {

// Each returns the process exit code (0 = ran and every check passed).
int RunPutWorkload(const Options& options);
int RunEdgeHitWorkload(const Options& options);
int RunPropagationWorkload(const Options& options);
int RunMixedWorkload(const Options& options);
int RunBulkWorkload(const Options& options);

// db_bench fillrandom --sync=1 (--threads=concurrency, --batch_size) for
// --duration in a fresh directory under `ws`; ops count keys (as ours do).
Result RunDbBench(const Options& options, const Workspace& ws, int concurrency,
                  int batch_size);

// "# ..." context line for text reports (CPUs, load average); nothing with
// --json. And the 1-minute load average (-1 if unknown).
void PrintContext(const Options& options, const std::string& what);
double LoadAverage1m();

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_WORKLOADS_H_
