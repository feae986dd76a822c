#ifndef KV_TOOLS_BENCH_BARE_SERVER_H_
#define KV_TOOLS_BENCH_BARE_SERVER_H_

// The same-run baseline of edge-hit: a minimal kv.v1.Kv server whose Get
// answers any single key with a fixed value (found, a fixed version,
// cache_status "HIT"), so its responses are the size of the edge's. It runs
// in a child process (`kv-bench --serve_bare --ready_file=F`), pinned like
// the edge, and is measured with the very same client loop.
//
// api "async": the completion-queue API, one CQ drained by one thread (the
// fastest unary server in /work/shared/baselines, ~85k/s on one core).
// api "sync": the synchronous API with gRPC's own thread pool, which is what
// kv-edge uses; useful to separate the cost of the API from the edge's own.
#include <string>

namespace kv::bench {

// Serves on 127.0.0.1:0 until SIGTERM/SIGINT; writes `grpc_port=` and
// `pid=` to `ready_file` (atomically). Returns the exit code.
int RunBareServer(const std::string& ready_file, const std::string& api, int value_size);

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_BARE_SERVER_H_
