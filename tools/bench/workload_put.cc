// --workload=put: durable single-key puts at a kv-central, C writers each
// a closed loop with its own connection (C calls in flight, as db_bench's C
// threads); --baseline runs db_bench fillrandom --sync=1 at the same
// concurrency, key size and value size. The default client keeps the C
// calls in flight from one thread on a completion queue (get_load.h), like
// the bare gRPC baselines; --put_client=sync gives each writer a thread and
// blocking calls (the first version; its own CPU competes with the server's
// on a 2-core machine).
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "proto/kv.grpc.pb.h"
#include "tools/bench/alternating.h"
#include "tools/bench/blocking_loop.h"
#include "tools/bench/get_load.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/owned_process.h"
#include "tools/bench/report.h"
#include "tools/bench/workloads.h"

namespace kv::bench {
namespace {

std::string RandomBytes(absl::BitGen& gen, int n) {
  std::string s(static_cast<size_t>(n), 'x');
  for (char& c : s) c = static_cast<char>('a' + absl::Uniform<int>(gen, 0, 26));
  return s;
}

// Keys drawn uniformly from 1,000,000 (db_bench fillrandom's --num) unless
// --keys says otherwise.
Result RunPutCq(const Options& o, const std::string& addr, const std::string& ns,
                int concurrency, pid_t pid, const std::vector<std::string>& keys) {
  GetLoadConfig config;
  config.name = "kv-central put";
  config.target = addr;
  config.ns = ns;
  config.keys = &keys;
  config.concurrency = concurrency;
  // One connection per writer unless --put_connections says otherwise.
  config.channels = o.put_connections > 0 ? o.put_connections : concurrency;
  config.warmup = o.warmup;
  config.duration = o.duration;
  config.token = o.token;
  config.value_size = static_cast<size_t>(o.value_size);
  config.server_pid = pid;
  config.read_ratio = 0.0;  // puts only
  Result r = RunGetLoad(config);
  r.extra.clear();  // the reads/writes split says nothing here
  r.hit_fraction = -1;
  return r;
}

Result RunPutSync(const Options& o, const std::string& addr, const std::string& ns,
                  int concurrency, pid_t pid) {
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs = OneConnectionEach(addr, concurrency);
  std::vector<kv::v1::PutRequest> requests(static_cast<size_t>(concurrency));
  for (kv::v1::PutRequest& req : requests) req.set_namespace_id(ns);
  BlockingLoopConfig config;
  config.name = "kv-central put";
  config.concurrency = concurrency;
  config.warmup = o.warmup;
  config.duration = o.duration;
  config.server_pid = pid;
  return RunBlockingLoop(config, [&](int writer, absl::BitGen& gen) {
           kv::v1::PutRequest& req = requests[static_cast<size_t>(writer)];
           req.set_key(RandomBytes(gen, o.key_size));
           req.set_value(RandomBytes(gen, o.value_size));
           kv::v1::PutResponse resp;
           grpc::ClientContext ctx;
           AddAuth(ctx, o.token);
           return CallOutcome{.ok = stubs[static_cast<size_t>(writer)]->Put(&ctx, req, &resp).ok()};
         })
      .result;
}

}  // namespace

// db_bench fillrandom --sync=1 at the same concurrency (and batch size), in
// a fresh dir.
Result RunDbBench(const Options& o, const Workspace& ws, int concurrency, int batch_size) {
  const std::string dir = ws.Path(absl::StrCat("dbbench-", concurrency));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  const std::string cmd = absl::StrCat(
      o.db_bench, " --benchmarks=fillrandom --sync=1 --threads=", concurrency,
      " --duration=", std::max<int64_t>(1, absl::ToInt64Seconds(o.duration)),
      " --key_size=", o.key_size, " --value_size=", o.value_size, " --batch_size=", batch_size,
      " --histogram=1 --db=", dir, " 2>&1");
  Result r;
  r.name = batch_size > 1 ? absl::StrCat("db_bench fillrandom sync=1 batch=", batch_size)
                          : "db_bench fillrandom sync=1";
  r.concurrency = concurrency;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::string out;
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  pclose(p);
  std::filesystem::remove_all(dir, ec);
  std::smatch m;
  if (std::regex_search(
          out, m,
          std::regex(
              R"(fillrandom\s*:\s*[\d.]+ micros/op (\d+) ops/sec[^;]* (\d+) operations)"))) {
    r.ops_per_sec = std::stod(m[1]);
    r.ops = std::stoull(m[2]);
  } else {
    std::cerr << "kv-bench: could not parse db_bench output:\n" << out;
  }
  if (std::regex_search(
          out, m, std::regex(R"(P50: ([\d.]+) P75: [\d.]+ P99: ([\d.]+) P99\.9: ([\d.]+))"))) {
    r.p50_us = std::stod(m[1]);
    r.p99_us = std::stod(m[2]);
    r.p999_us = std::stod(m[3]);
  }
  return r;
}

// The central a put run writes to, and its namespace: either --addr, or a
// kv-central of kv-bench's own (in the workspace), which Restart replaces
// with a new one on an empty data dir.
class PutTarget {
 public:
  PutTarget(const Options& o, const Workspace& ws) : o_(o), ws_(ws) {}

  absl::Status Restart() {
    if (!o_.addr.empty()) {
      if (stub_ == nullptr) return Connect(o_.addr, o_.server_pid);
      return absl::OkStatus();  // someone else's server: nothing to restart
    }
    if (o_.central_bin.empty()) return absl::InvalidArgumentError("give --addr or --central_bin");
    central_.reset();  // SIGTERM, waits
    std::error_code ec;
    std::filesystem::remove_all(ws_.Path("central-data"), ec);
    std::filesystem::remove(ws_.Path("central.ready"), ec);
    absl::StatusOr<std::unique_ptr<OwnedProcess>> started = StartCentral(ws_, o_.central_bin);
    if (!started.ok()) return started.status();
    central_ = *std::move(started);
    return Connect(central_->LocalAddr("grpc_port"), central_->pid());
  }

  const std::string& addr() const { return addr_; }
  const std::string& ns() const { return ns_; }
  pid_t pid() const { return pid_; }

  // Deletes the namespace on someone else's server.
  void Done() {
    if (!o_.addr.empty() && stub_ != nullptr) (void)DeleteNamespace(*stub_, ns_, o_.token);
  }

 private:
  absl::Status Connect(const std::string& addr, pid_t pid) {
    addr_ = addr;
    pid_ = pid;
    stub_ = NewStub(addr);
    absl::StatusOr<std::string> ns = CreateNamespace(*stub_, o_.token);
    if (!ns.ok()) {
      return absl::Status(ns.status().code(),
                          absl::StrCat("at ", addr, ": ", ns.status().message()));
    }
    ns_ = *ns;
    return absl::OkStatus();
  }

  const Options& o_;
  const Workspace& ws_;
  std::unique_ptr<OwnedProcess> central_;
  std::unique_ptr<kv::v1::Kv::Stub> stub_;
  std::string addr_, ns_;
  pid_t pid_ = -1;
};

int RunPutWorkload(const Options& o) {
  auto ws = Workspace::Create(o.keep_tmp);
  if (!ws.ok()) {
    std::cerr << "kv-bench: " << ws.status().message() << "\n";
    return 1;
  }
  PutTarget target(o, **ws);
  if (absl::Status s = target.Restart(); !s.ok()) {
    std::cerr << "kv-bench: " << s.message() << "\n";
    return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  // A new central (and namespace) for every measured run but the first.
  const bool fresh = o.put_fresh_db && o.addr.empty();
  bool first_run = true;
  std::vector<std::string> keys;
  if (o.put_client == "cq") keys = MakeKeys(o.keys > 0 ? o.keys : 1000000, o.key_size);
  auto measure = [&](const Options& run, int concurrency) {
    if (fresh && !first_run) {
      if (absl::Status s = target.Restart(); !s.ok()) {
        std::cerr << "kv-bench: " << s.message() << "\n";
        Result failed;
        failed.name = "kv-central put";
        failed.concurrency = concurrency;
        failed.errors = 1;
        return failed;
      }
    }
    first_run = false;
    Result ours = o.put_client == "cq"
                      ? RunPutCq(run, target.addr(), target.ns(), concurrency, target.pid(), keys)
                      : RunPutSync(run, target.addr(), target.ns(), concurrency, target.pid());
    ours.loadavg_before = o.loadavg_before;
    return ours;
  };
  PrintContext(o, absl::StrCat("put (server unpinned, ", o.put_client,
                               " client", fresh ? ", a new central per run" : "", ")"));
  int rc = 0;
  for (int concurrency : o.concurrency) {
    if (o.baseline) {
      // kv-central and db_bench in turns (--rounds; one each by default),
      // each round --duration/rounds long, in whole seconds (db_bench's
      // --duration is in seconds) so that both sides run equally long.
      Options slice = o;
      slice.duration = std::max(absl::Seconds(1),
                                absl::Trunc(o.duration / o.rounds, absl::Seconds(1)));
      AlternatingRuns runs;
      runs.rounds = o.rounds;
      runs.ours_name = "kv-central";
      runs.base_name = "db_bench";
      runs.run_ours = [&](int round) {
        // A kept central's connections are warm after the first round.
        if (round > 0 && !fresh) slice.warmup = std::min(o.warmup, absl::Milliseconds(200));
        return measure(slice, concurrency);
      };
      runs.run_base = [&](int /*round*/) { return RunDbBench(slice, **ws, concurrency, 1); };
      if (RunAlternating(runs, o.json) != 0) rc = 1;
      continue;
    }
    Result ours = measure(o, concurrency);
    PrintResult(ours, 0, o.json);
    if (ours.errors > 0) rc = 1;
  }
  target.Done();
  return rc;
}

}  // namespace kv::bench
