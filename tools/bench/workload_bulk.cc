// --workload=bulk: BulkPut of --batch entries (default 1,000; random keys of
// --key_size, values of --value_size) at a kv-central, each of
// --concurrency writers a closed loop on its own connection. Throughput
// counts keys; latencies are per request. --baseline: db_bench fillrandom
// --sync=1 --batch_size=--batch at the same concurrency (keys/s; its
// percentiles are per batch too).
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "proto/kv.grpc.pb.h"
#include "tools/bench/blocking_loop.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/owned_process.h"
#include "tools/bench/report.h"
#include "tools/bench/workloads.h"

namespace kv::bench {
namespace {

void RandomFill(absl::BitGen& gen, std::string* s, int n) {
  s->resize(static_cast<size_t>(n));
  for (char& c : *s) c = static_cast<char>('a' + absl::Uniform<int>(gen, 0, 26));
}

Result RunBulk(const Options& o, const std::string& addr, const std::string& ns,
               int concurrency, pid_t pid) {
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs = OneConnectionEach(addr, concurrency);
  std::vector<kv::v1::BulkPutRequest> requests(static_cast<size_t>(concurrency));
  for (kv::v1::BulkPutRequest& req : requests) {
    req.set_namespace_id(ns);
    for (int i = 0; i < o.batch; ++i) req.add_entries();
  }
  std::vector<uint64_t> failures(static_cast<size_t>(concurrency), 0);
  BlockingLoopConfig config;
  config.name = absl::StrCat("kv-central bulk put batch=", o.batch);
  config.unit = "keys";
  config.concurrency = concurrency;
  config.warmup = o.warmup;
  config.duration = o.duration;
  config.server_pid = pid;
  BlockingLoopResult run = RunBlockingLoop(config, [&](int writer, absl::BitGen& gen) {
    const size_t w = static_cast<size_t>(writer);
    for (kv::v1::BulkPutEntry& e : *requests[w].mutable_entries()) {
      RandomFill(gen, e.mutable_key(), o.key_size);
      RandomFill(gen, e.mutable_value(), o.value_size);
    }
    kv::v1::BulkPutResponse resp;
    grpc::ClientContext ctx;
    AddAuth(ctx, o.token);
    const grpc::Status s = stubs[w]->BulkPut(&ctx, requests[w], &resp);
    if (s.ok() && resp.unsuccessful_keys_size() == 0)
      return CallOutcome{.ok = true, .units = static_cast<uint64_t>(o.batch)};
    if (++failures[w] == 1) {
      std::cerr << "kv-bench: bulk put failed: "
                << (s.ok() ? absl::StrCat(resp.unsuccessful_keys_size(), " keys unsuccessful")
                           : s.error_message())
                << "\n";
    }
    return CallOutcome{.ok = false};
  });
  Result& r = run.result;
  r.extra.emplace_back("batch", o.batch);
  r.extra.emplace_back("requests_per_sec", static_cast<double>(run.calls_ok) / run.seconds);
  return r;
}

}  // namespace

int RunBulkWorkload(const Options& o) {
  if (o.batch < 1 || o.batch > 10000) {
    std::cerr << "kv-bench: --batch must be 1..10000\n";
    return 2;
  }
  auto ws = Workspace::Create(o.keep_tmp);
  if (!ws.ok()) {
    std::cerr << "kv-bench: " << ws.status().message() << "\n";
    return 1;
  }
  std::unique_ptr<OwnedProcess> central;
  std::string addr = o.addr;
  pid_t pid = -1;
  if (addr.empty()) {
    if (o.central_bin.empty()) {
      std::cerr << "kv-bench: give --addr or --central_bin\n";
      return 2;
    }
    auto started = StartCentral(**ws, o.central_bin);
    if (!started.ok()) {
      std::cerr << "kv-bench: " << started.status().message() << "\n";
      return 1;
    }
    central = *std::move(started);
    addr = central->LocalAddr("grpc_port");
    pid = central->pid();
  }
  PrintContext(o, absl::StrCat("bulk batch=", o.batch, " (server unpinned)"));
  auto stub = NewStub(addr);
  absl::StatusOr<std::string> ns = CreateNamespace(*stub, o.token);
  if (!ns.ok()) {
    std::cerr << "kv-bench: at " << addr << ": " << ns.status().message() << "\n";
    return 1;
  }
  int rc = 0;
  for (int concurrency : o.concurrency) {
    double baseline = 0;
    if (o.baseline) {
      Result base = RunDbBench(o, **ws, concurrency, o.batch);
      base.loadavg_before = o.loadavg_before;
      base.extra.emplace_back("batch", o.batch);
      base.extra.emplace_back("requests_per_sec", base.ops_per_sec / o.batch);
      PrintResult(base, 0, o.json);
      baseline = base.ops_per_sec;
    }
    Result ours = RunBulk(o, addr, *ns, concurrency, pid);
    ours.loadavg_before = o.loadavg_before;
    PrintResult(ours, baseline, o.json);
    if (ours.errors > 0 || ours.ops == 0) rc = 1;
  }
  if (!o.addr.empty()) (void)DeleteNamespace(*stub, *ns, o.token);
  return rc;
}

}  // namespace kv::bench
