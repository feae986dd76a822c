// --workload=put: durable single-key puts at a kv-central, each writer a
// closed loop with its own connection; --baseline runs db_bench fillrandom
// --sync=1 at the same concurrency, key size and value size.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/kv.grpc.pb.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/latency_recorder.h"
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

Result RunPut(const Options& o, const std::string& addr, const std::string& ns,
              int concurrency, pid_t pid) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(128 << 20);
  args.SetMaxSendMessageSize(128 << 20);
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs;
  // One channel per writer: distinct HTTP/2 connections, like distinct clients.
  for (int i = 0; i < concurrency; ++i) {
    args.SetInt("kv_bench_channel", i);
    stubs.push_back(kv::v1::Kv::NewStub(
        grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args)));
  }
  std::atomic<bool> measuring{false}, stop{false};
  std::atomic<uint64_t> done{0}, failed{0};
  std::vector<LatencyRecorder> recorders(static_cast<size_t>(concurrency));
  std::vector<LatencySeries> series(static_cast<size_t>(concurrency));
  absl::Time measure_start;
  std::vector<uint64_t> errors(static_cast<size_t>(concurrency), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      absl::BitGen gen;
      kv::v1::PutRequest req;
      req.set_namespace_id(ns);
      kv::v1::PutResponse resp;
      while (!stop.load(std::memory_order_relaxed)) {
        req.set_key(RandomBytes(gen, o.key_size));
        req.set_value(RandomBytes(gen, o.value_size));
        grpc::ClientContext ctx;
        AddAuth(ctx, o.token);
        const absl::Time start = absl::Now();
        grpc::Status s = stubs[t]->Put(&ctx, req, &resp);
        const absl::Time end = absl::Now();
        const int64_t us = absl::ToInt64Microseconds(end - start);
        if (!measuring.load(std::memory_order_acquire)) continue;
        if (s.ok()) {
          recorders[t].Record(us);
          series[t].Record(absl::ToDoubleSeconds(end - measure_start), static_cast<double>(us));
        } else {
          ++errors[t];
          failed.fetch_add(1, std::memory_order_relaxed);
        }
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  absl::SleepFor(o.warmup);
  const absl::Time start = absl::Now();
  measure_start = start;
  measuring.store(true, std::memory_order_release);
  {
    Progress progress(absl::StrFormat("put c=%d", concurrency), o.duration, [&] {
      const double secs = absl::ToDoubleSeconds(absl::Now() - start);
      return absl::StrFormat("%.0f ops/s  errors %d", secs > 0 ? done.load() / secs : 0.0,
                             failed.load());
    });
    absl::SleepFor(o.duration);
  }
  measuring = false;
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  Result r;
  r.rss_kb = pid > 0 ? RssKb(pid) : -1;
  stop = true;
  for (auto& th : threads) th.join();
  LatencyRecorder all;
  LatencySeries all_series;
  for (int t = 0; t < concurrency; ++t) {
    all.Merge(recorders[t]);
    all_series.Merge(series[t]);
    r.errors += errors[t];
  }
  r.name = "kv-central put";
  r.concurrency = concurrency;
  r.ops = all.count();
  r.ops_per_sec = static_cast<double>(r.ops) / secs;
  r.p50_us = all.Percentile(50);
  r.p90_us = all.Percentile(90);
  r.p99_us = all.Percentile(99);
  r.p999_us = all.Percentile(99.9);
  r.series = all_series.Points();
  return r;
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

int RunPutWorkload(const Options& o) {
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
  PrintContext(o, "put (server unpinned)");
  auto stub = NewStub(addr);
  absl::StatusOr<std::string> ns = CreateNamespace(*stub, o.token);
  if (!ns.ok()) {
    std::cerr << "kv-bench: at " << addr << ": " << ns.status().message() << "\n";
    return 1;
  }
  int rc = 0;
  for (int concurrency : o.concurrency) {
    Result ours = RunPut(o, addr, *ns, concurrency, pid);
    ours.loadavg_before = o.loadavg_before;
    double baseline = 0;
    if (o.baseline) {
      Result base = RunDbBench(o, **ws, concurrency, 1);
      PrintResult(base, 0, o.json);
      baseline = base.ops_per_sec;
    }
    PrintResult(ours, baseline, o.json);
    if (ours.errors > 0) rc = 1;
  }
  if (!o.addr.empty()) (void)DeleteNamespace(*stub, *ns, o.token);
  return rc;
}

}  // namespace kv::bench
