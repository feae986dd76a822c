#include "tools/bench/get_load.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "proto/kv.grpc.pb.h"
#include "tools/bench/kv_client.h"
#include "tools/bench/latency_recorder.h"

namespace kv::bench {
namespace {

using Clock = std::chrono::steady_clock;
enum Phase { kWarmup = 0, kMeasure = 1, kStop = 2 };

// Shared by every slot; only the CQ thread writes the plain fields.
struct LoadState {
  std::atomic<int> phase{kWarmup};
  Clock::time_point measure_start;  // written before phase becomes kMeasure
  std::atomic<uint64_t> measured{0};  // for the progress line
  std::atomic<uint64_t> errors_seen{0};
  uint64_t ok = 0, errors = 0, hits = 0, reads_ok = 0, writes_ok = 0;
  LatencyRecorder latency_ns, read_ns, write_ns;
  LatencySeries series;
  std::string first_error;
};

struct Rng {  // xorshift64*
  uint64_t s;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
};

class Slot {
 public:
  Slot(kv::v1::Kv::Stub* stub, grpc::CompletionQueue* cq, const GetLoadConfig& config,
       LoadState* state, uint64_t seed)
      : stub_(stub), cq_(cq), config_(config), state_(state), rng_{seed | 1} {
    req_.set_namespace_id(config.ns);
    req_.add_keys();
    put_req_.set_namespace_id(config.ns);
    put_req_.set_value(std::string(config.value_size, 'w'));
  }

  void Issue() {
    ctx_ = std::make_unique<grpc::ClientContext>();
    if (!config_.token.empty()) ctx_->AddMetadata("authorization", "Bearer " + config_.token);
    const std::vector<std::string>& keys = *config_.keys;
    const std::string& key =
        config_.zipf != nullptr ? keys[config_.zipf->Next(Uniform())] : keys[rng_.Next() % keys.size()];
    is_put_ = config_.read_ratio < 1.0 && Uniform() >= config_.read_ratio;
    start_ = Clock::now();
    if (is_put_) {
      put_req_.set_key(key);
      put_resp_.Clear();
      put_rpc_ = stub_->AsyncPut(ctx_.get(), put_req_, cq_);
      put_rpc_->Finish(&put_resp_, &status_, this);
      return;
    }
    *req_.mutable_keys(0) = key;
    resp_.Clear();
    rpc_ = stub_->AsyncGet(ctx_.get(), req_, cq_);
    rpc_->Finish(&resp_, &status_, this);
  }

  // Returns false once the slot has stopped (no call outstanding).
  bool OnDone() {
    const int phase = state_->phase.load(std::memory_order_acquire);
    if (phase == kMeasure) {
      const Clock::time_point now = Clock::now();
      const int64_t ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count();
      std::string error;
      if (!status_.ok()) {
        error = absl::StrFormat("%s status %d: %s", is_put_ ? "put" : "get",
                                static_cast<int>(status_.error_code()), status_.error_message());
      } else if (is_put_) {
        // A put succeeded.
      } else if (resp_.entries_size() != 1 || !resp_.entries(0).found()) {
        error = "key not found";
      } else if (resp_.entries(0).value().size() != config_.value_size) {
        error = absl::StrFormat("value of %d bytes, expected %d",
                                resp_.entries(0).value().size(), config_.value_size);
      }
      if (error.empty()) {
        ++state_->ok;
        state_->latency_ns.Record(ns);
        state_->series.Record(
            std::chrono::duration<double>(now - state_->measure_start).count(), ns / 1000.0);
        if (is_put_) {
          ++state_->writes_ok;
          state_->write_ns.Record(ns);
        } else {
          ++state_->reads_ok;
          state_->read_ns.Record(ns);
          if (resp_.cache_status() == "HIT") ++state_->hits;
        }
      } else {
        if (state_->errors == 0) state_->first_error = error;
        ++state_->errors;
        state_->errors_seen.fetch_add(1, std::memory_order_relaxed);
      }
      state_->measured.fetch_add(1, std::memory_order_relaxed);
    }
    if (phase == kStop) return false;
    Issue();
    return true;
  }

  double Uniform() { return static_cast<double>(rng_.Next() >> 11) * 0x1.0p-53; }

  void Cancel() {
    if (ctx_ != nullptr) ctx_->TryCancel();
  }

 private:
  kv::v1::Kv::Stub* stub_;
  grpc::CompletionQueue* cq_;
  const GetLoadConfig& config_;
  LoadState* state_;
  Rng rng_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<kv::v1::GetResponse>> rpc_;
  kv::v1::GetRequest req_;
  kv::v1::GetResponse resp_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<kv::v1::PutResponse>> put_rpc_;
  kv::v1::PutRequest put_req_;
  kv::v1::PutResponse put_resp_;
  bool is_put_ = false;
  grpc::Status status_;
  Clock::time_point start_;
};

}  // namespace

Result RunGetLoad(const GetLoadConfig& config) {
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs;
  for (int i = 0; i < std::max(1, config.channels); ++i) {
    grpc::ChannelArguments args;
    args.SetInt("kv_bench.channel_index", i);  // a distinct connection each
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stubs.push_back(kv::v1::Kv::NewStub(NewChannel(config.target, args)));
  }
  LoadState state;
  grpc::CompletionQueue cq;
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < config.concurrency; ++i) {
    slots.push_back(std::make_unique<Slot>(stubs[i % stubs.size()].get(), &cq, config, &state,
                                           0x9E3779B97F4A7C15ULL * (i + 1)));
  }
  std::atomic<int> active{config.concurrency};
  for (auto& s : slots) s->Issue();
  std::thread poller([&] {
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
      if (!static_cast<Slot*>(tag)->OnDone()) active.fetch_sub(1);
    }
  });

  absl::SleepFor(config.warmup);
  const double m0 = MachineBusySeconds();
  const double c0 = SelfCpuSeconds();
  const double s0 = config.server_pid > 0 ? ProcessCpuSeconds(config.server_pid) : -1;
  const double x0 = config.server_pid > 0 ? ProcessContextSwitches(config.server_pid) : -1;
  const absl::Time t0 = absl::Now();
  state.measure_start = Clock::now();
  state.phase.store(kMeasure);
  {
    Progress progress(absl::StrFormat("%s c=%d", config.name, config.concurrency),
                      config.duration, [&] {
                        const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
                        return absl::StrFormat(
                            "%.0f ops/s  errors %d",
                            secs > 0 ? state.measured.load() / secs : 0.0,
                            state.errors_seen.load());
                      });
    absl::SleepFor(config.duration);
  }
  state.phase.store(kStop);
  const absl::Time t1 = absl::Now();
  const double m1 = MachineBusySeconds();
  const double c1 = SelfCpuSeconds();
  const double s1 = config.server_pid > 0 ? ProcessCpuSeconds(config.server_pid) : -1;
  const double x1 = config.server_pid > 0 ? ProcessContextSwitches(config.server_pid) : -1;
  Result r;
  r.rss_kb = config.server_pid > 0 ? RssKb(config.server_pid) : -1;

  // Drain: every slot stops at its next completion; cancel stragglers.
  const absl::Time drain_deadline = absl::Now() + absl::Seconds(10);
  while (active.load() > 0 && absl::Now() < drain_deadline) absl::SleepFor(absl::Milliseconds(5));
  if (active.load() > 0) {
    std::cerr << "kv-bench: " << active.load() << " calls still outstanding; cancelling\n";
    for (auto& s : slots) s->Cancel();
    while (active.load() > 0) absl::SleepFor(absl::Milliseconds(5));
  }
  cq.Shutdown();
  poller.join();

  const double secs = absl::ToDoubleSeconds(t1 - t0);
  r.name = config.name;
  r.concurrency = config.concurrency;
  r.ops = state.ok;
  r.errors = state.errors;
  r.ops_per_sec = static_cast<double>(state.ok) / secs;
  r.p50_us = state.latency_ns.Percentile(50) / 1000.0;
  r.p90_us = state.latency_ns.Percentile(90) / 1000.0;
  r.p99_us = state.latency_ns.Percentile(99) / 1000.0;
  r.p999_us = state.latency_ns.Percentile(99.9) / 1000.0;
  r.hit_fraction =
      state.reads_ok > 0 ? static_cast<double>(state.hits) / state.reads_ok : 0;
  r.series = state.series.Points();
  if (config.read_ratio < 1.0) {
    r.extra.emplace_back("reads", static_cast<double>(state.reads_ok));
    r.extra.emplace_back("writes", static_cast<double>(state.writes_ok));
    r.extra.emplace_back("read_p99_us", state.read_ns.Percentile(99) / 1000.0);
    r.extra.emplace_back("write_p99_us", state.write_ns.Percentile(99) / 1000.0);
  }
  r.client_cpu = (c1 - c0) / secs;
  if (x0 >= 0 && x1 >= 0 && state.ok + state.errors > 0) {
    // The server's context switches per call (threads that exited in the
    // interval are not counted).
    r.server_cs_per_op = (x1 - x0) / static_cast<double>(state.ok + state.errors);
  }
  if (s0 >= 0 && s1 >= 0) {
    r.server_cpu = (s1 - s0) / secs;
    r.server_us_per_op = state.ok + state.errors > 0 ? (s1 - s0) * 1e6 / (state.ok + state.errors)
                                                     : 0;
  }
  if (m0 >= 0 && m1 >= 0) {
    const double ours = (c1 - c0) + (s0 >= 0 && s1 >= 0 ? s1 - s0 : 0);
    r.other_cpu = std::max(0.0, (m1 - m0 - ours) / secs);
  }
  r.pinned = config.pinned;
  if (state.errors > 0) {
    std::cerr << "kv-bench: " << config.name << ": " << state.errors
              << " errors; the first: " << state.first_error << "\n";
  }
  return r;
}

}  // namespace kv::bench
