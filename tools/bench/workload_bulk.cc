// --workload=bulk: BulkPut of --batch entries (default 1,000; random keys of
// --key_size, values of --value_size) at a kv-central, each of
// --concurrency writers a closed loop on its own connection. Throughput
// counts keys; latencies are per request. --baseline: db_bench fillrandom
// --sync=1 --batch_size=--batch at the same concurrency (keys/s; its
// percentiles are per batch too).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "proto/kv.grpc.pb.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/latency_recorder.h"
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
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs;
  for (int i = 0; i < concurrency; ++i) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(128 << 20);
    args.SetMaxSendMessageSize(128 << 20);
    args.SetInt("kv_bench_channel", i);
    stubs.push_back(kv::v1::Kv::NewStub(
        grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args)));
  }
  std::atomic<bool> measuring{false}, stop{false};
  std::atomic<uint64_t> keys_done{0}, failed{0};
  std::vector<LatencyRecorder> recorders(static_cast<size_t>(concurrency));
  std::vector<LatencySeries> series(static_cast<size_t>(concurrency));
  std::vector<uint64_t> errors(static_cast<size_t>(concurrency), 0);
  std::vector<uint64_t> keys_ok(static_cast<size_t>(concurrency), 0);
  absl::Time start;
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      absl::BitGen gen;
      kv::v1::BulkPutRequest req;
      req.set_namespace_id(ns);
      for (int i = 0; i < o.batch; ++i) req.add_entries();
      kv::v1::BulkPutResponse resp;
      while (!stop.load(std::memory_order_relaxed)) {
        for (kv::v1::BulkPutEntry& e : *req.mutable_entries()) {
          RandomFill(gen, e.mutable_key(), o.key_size);
          RandomFill(gen, e.mutable_value(), o.value_size);
        }
        grpc::ClientContext ctx;
        AddAuth(ctx, o.token);
        const absl::Time begin = absl::Now();
        grpc::Status s = stubs[t]->BulkPut(&ctx, req, &resp);
        const absl::Time end = absl::Now();
        if (!measuring.load(std::memory_order_acquire)) continue;
        const int64_t us = absl::ToInt64Microseconds(end - begin);
        if (s.ok() && resp.unsuccessful_keys_size() == 0) {
          recorders[t].Record(us);
          series[t].Record(absl::ToDoubleSeconds(end - start), static_cast<double>(us));
          keys_ok[t] += static_cast<uint64_t>(o.batch);
          keys_done.fetch_add(static_cast<uint64_t>(o.batch), std::memory_order_relaxed);
        } else {
          ++errors[t];
          failed.fetch_add(1, std::memory_order_relaxed);
          if (errors[t] == 1) {
            std::cerr << "kv-bench: bulk put failed: " << s.error_message() << "\n";
          }
        }
      }
    });
  }
  absl::SleepFor(o.warmup);
  start = absl::Now();
  measuring.store(true, std::memory_order_release);
  {
    Progress progress(absl::StrFormat("bulk c=%d", concurrency), o.duration, [&] {
      const double secs = absl::ToDoubleSeconds(absl::Now() - start);
      return absl::StrFormat("%.0f keys/s  errors %d", secs > 0 ? keys_done.load() / secs : 0.0,
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
  uint64_t keys = 0;
  for (int t = 0; t < concurrency; ++t) {
    all.Merge(recorders[t]);
    all_series.Merge(series[t]);
    r.errors += errors[t];
    keys += keys_ok[t];
  }
  r.name = absl::StrCat("kv-central bulk put batch=", o.batch);
  r.concurrency = concurrency;
  r.ops = keys;
  r.ops_per_sec = static_cast<double>(keys) / secs;
  r.p50_us = all.Percentile(50);
  r.p90_us = all.Percentile(90);
  r.p99_us = all.Percentile(99);
  r.p999_us = all.Percentile(99.9);
  r.series = all_series.Points();
  r.extra.emplace_back("batch", o.batch);
  r.extra.emplace_back("requests_per_sec", static_cast<double>(all.count()) / secs);
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
