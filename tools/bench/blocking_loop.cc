#include "tools/bench/blocking_loop.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/latency_recorder.h"
#include "tools/bench/latency_series.h"

namespace kv::bench {

std::vector<std::unique_ptr<kv::v1::Kv::Stub>> OneConnectionEach(const std::string& addr,
                                                                 int writers) {
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs;
  for (int i = 0; i < writers; ++i) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(128 << 20);
    args.SetMaxSendMessageSize(128 << 20);
    args.SetInt("kv_bench_channel", i);
    stubs.push_back(kv::v1::Kv::NewStub(NewChannel(addr, args)));
  }
  return stubs;
}

BlockingLoopResult RunBlockingLoop(const BlockingLoopConfig& config, const BlockingCall& call) {
  const size_t n = static_cast<size_t>(config.concurrency);
  std::atomic<bool> measuring{false}, stop{false};
  std::atomic<uint64_t> units_done{0}, failed{0};
  std::vector<LatencyRecorder> recorders(n);
  std::vector<LatencySeries> series(n);
  std::vector<uint64_t> errors(n, 0), units_ok(n, 0);
  absl::Time start;
  std::vector<std::thread> threads;
  for (int t = 0; t < config.concurrency; ++t) {
    threads.emplace_back([&, t] {
      absl::BitGen gen;
      while (!stop.load(std::memory_order_relaxed)) {
        const absl::Time begin = absl::Now();
        const CallOutcome outcome = call(t, gen);
        const absl::Time end = absl::Now();
        if (!measuring.load(std::memory_order_acquire)) continue;
        if (outcome.ok) {
          const int64_t us = absl::ToInt64Microseconds(end - begin);
          recorders[t].Record(us);
          series[t].Record(absl::ToDoubleSeconds(end - start), static_cast<double>(us));
          units_ok[t] += outcome.units;
          units_done.fetch_add(outcome.units, std::memory_order_relaxed);
        } else {
          ++errors[t];
          failed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  absl::SleepFor(config.warmup);
  start = absl::Now();
  measuring.store(true, std::memory_order_release);
  {
    Progress progress(absl::StrFormat("%s c=%d", config.name, config.concurrency),
                      config.duration, [&] {
                        const double secs = absl::ToDoubleSeconds(absl::Now() - start);
                        return absl::StrFormat("%.0f %s/s  errors %d",
                                               secs > 0 ? units_done.load() / secs : 0.0,
                                               config.unit, failed.load());
                      });
    absl::SleepFor(config.duration);
  }
  measuring = false;
  BlockingLoopResult out;
  out.seconds = absl::ToDoubleSeconds(absl::Now() - start);
  Result& r = out.result;
  r.rss_kb = config.server_pid > 0 ? RssKb(config.server_pid) : -1;
  stop = true;
  for (std::thread& thread : threads) thread.join();
  LatencyRecorder all;
  LatencySeries all_series;
  uint64_t units = 0;
  for (size_t t = 0; t < n; ++t) {
    all.Merge(recorders[t]);
    all_series.Merge(series[t]);
    r.errors += errors[t];
    units += units_ok[t];
  }
  out.calls_ok = all.count();
  r.name = config.name;
  r.concurrency = config.concurrency;
  r.ops = units;
  r.ops_per_sec = static_cast<double>(units) / out.seconds;
  r.p50_us = all.Percentile(50);
  r.p90_us = all.Percentile(90);
  r.p99_us = all.Percentile(99);
  r.p999_us = all.Percentile(99.9);
  r.series = all_series.Points();
  return out;
}

}  // namespace kv::bench
