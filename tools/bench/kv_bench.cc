// kv-bench: load generator for the KV store that compares itself with a
// baseline measured in the same run.
//
//   kv-bench --workload=put --concurrency=1,4,16 --duration=10s
//            --central_bin=build/central/kv-central --baseline
//
// Workloads (this version): put (durable single-key puts, each writer a
// closed loop). --baseline runs db_bench fillrandom --sync=1 at the same
// concurrency, key size and value size, and prints the ratio.
// Without --addr, kv-bench starts its own kv-central (--central_bin) in a
// temporary directory on a free port, so it can report the server's RSS.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/random/random.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/kv.grpc.pb.h"
#include "tools/bench/latency_recorder.h"

ABSL_FLAG(std::string, workload, "put", "put");
ABSL_FLAG(std::string, addr, "", "A running node's gRPC address; empty: start one.");
ABSL_FLAG(std::string, central_bin, "", "kv-central binary to start when --addr is empty.");
ABSL_FLAG(std::string, token, "", "Bearer token (none in dev mode).");
ABSL_FLAG(std::string, concurrency, "1,4,16", "Comma-separated writer counts.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured time per configuration.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "Unmeasured time before each.");
ABSL_FLAG(int, key_size, 16, "Key bytes.");
ABSL_FLAG(int, value_size, 100, "Value bytes.");
ABSL_FLAG(bool, baseline, false, "Also run db_bench fillrandom --sync=1 and print ratios.");
ABSL_FLAG(std::string, db_bench, "db_bench", "db_bench binary (Debian rocksdb-tools).");
ABSL_FLAG(bool, json, false, "Print one JSON object per configuration.");

namespace kv::bench {
namespace {

struct Result {
  std::string name;
  int concurrency = 0;
  double ops_per_sec = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0;
  uint64_t ops = 0, errors = 0;
  long rss_kb = -1;
};

long RssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    long kb;
    if (line.rfind("VmRSS:", 0) == 0 &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(
                             absl::StripSuffix(absl::StripPrefix(line, "VmRSS:"), "kB")),
                         &kb)) {
      return kb;
    }
  }
  return -1;
}

// A kv-central started for the benchmark, stopped (SIGTERM) on destruction.
class OwnedCentral {
 public:
  static std::unique_ptr<OwnedCentral> Start(const std::string& bin) {
    auto c = std::make_unique<OwnedCentral>();
    c->dir_ = std::filesystem::temp_directory_path() /
              absl::StrCat("kv-bench-", getpid());
    std::filesystem::create_directories(c->dir_);
    const std::string ready = (c->dir_ / "ready").string();
    const std::string log = (c->dir_ / "central.log").string();
    c->pid_ = fork();
    if (c->pid_ == 0) {
      FILE* f = freopen(log.c_str(), "w", stderr);
      (void)f;
      std::string data = absl::StrCat("--data_dir=", (c->dir_ / "data").string());
      std::string rf = absl::StrCat("--ready_file=", ready);
      execl(bin.c_str(), bin.c_str(), data.c_str(), "--grpc_addr=127.0.0.1:0", "--dev",
            rf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      std::ifstream in(ready);
      std::string line;
      while (std::getline(in, line)) {
        if (line.rfind("grpc_port=", 0) == 0) {
          c->addr_ = absl::StrCat("127.0.0.1:", line.substr(10));
          return c;
        }
      }
      if (waitpid(c->pid_, nullptr, WNOHANG) == c->pid_) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    std::cerr << "kv-bench: kv-central did not become ready; see " << log << "\n";
    return nullptr;
  }
  ~OwnedCentral() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& addr() const { return addr_; }
  pid_t pid() const { return pid_; }

 private:
  std::filesystem::path dir_;
  std::string addr_;
  pid_t pid_ = -1;
};

std::string RandomBytes(absl::BitGen& gen, int n) {
  std::string s(n, 'x');
  for (char& c : s) c = static_cast<char>('a' + absl::Uniform<int>(gen, 0, 26));
  return s;
}

Result RunPut(const std::string& addr, const std::string& ns, int concurrency, pid_t pid) {
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
  std::vector<LatencyRecorder> recorders(concurrency);
  std::vector<uint64_t> errors(concurrency, 0);
  const std::string token = absl::GetFlag(FLAGS_token);
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&, t] {
      absl::BitGen gen;
      kv::v1::PutRequest req;
      req.set_namespace_id(ns);
      kv::v1::PutResponse resp;
      while (!stop.load(std::memory_order_relaxed)) {
        req.set_key(RandomBytes(gen, absl::GetFlag(FLAGS_key_size)));
        req.set_value(RandomBytes(gen, absl::GetFlag(FLAGS_value_size)));
        grpc::ClientContext ctx;
        if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
        const absl::Time start = absl::Now();
        grpc::Status s = stubs[t]->Put(&ctx, req, &resp);
        const int64_t us = absl::ToInt64Microseconds(absl::Now() - start);
        if (!measuring.load(std::memory_order_relaxed)) continue;
        if (s.ok()) {
          recorders[t].Record(us);
        } else {
          ++errors[t];
        }
      }
    });
  }
  absl::SleepFor(absl::GetFlag(FLAGS_warmup));
  measuring = true;
  const absl::Time start = absl::Now();
  absl::SleepFor(absl::GetFlag(FLAGS_duration));
  measuring = false;
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  Result r;
  r.rss_kb = pid > 0 ? RssKb(pid) : -1;
  stop = true;
  for (auto& th : threads) th.join();
  LatencyRecorder all;
  for (int t = 0; t < concurrency; ++t) {
    all.Merge(recorders[t]);
    r.errors += errors[t];
  }
  r.name = "kv-central put";
  r.concurrency = concurrency;
  r.ops = all.count();
  r.ops_per_sec = r.ops / secs;
  r.p50_us = all.Percentile(50);
  r.p90_us = all.Percentile(90);
  r.p99_us = all.Percentile(99);
  r.p999_us = all.Percentile(99.9);
  return r;
}

// db_bench fillrandom --sync=1 at the same concurrency, in a fresh dir.
Result RunDbBench(int concurrency) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           absl::StrCat("kv-bench-dbbench-", getpid()))
                              .string();
  std::filesystem::remove_all(dir);
  const std::string cmd = absl::StrCat(
      absl::GetFlag(FLAGS_db_bench), " --benchmarks=fillrandom --sync=1 --threads=",
      concurrency, " --duration=",
      absl::ToInt64Seconds(absl::GetFlag(FLAGS_duration)), " --key_size=",
      absl::GetFlag(FLAGS_key_size), " --value_size=", absl::GetFlag(FLAGS_value_size),
      " --histogram=1 --db=", dir, " 2>&1");
  Result r;
  r.name = "db_bench fillrandom sync=1";
  r.concurrency = concurrency;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::string out;
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  pclose(p);
  std::filesystem::remove_all(dir);
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(fillrandom\s*:\s*[\d.]+ micros/op (\d+) ops/sec[^;]* (\d+) operations)"))) {
    r.ops_per_sec = std::stod(m[1]);
    r.ops = std::stoull(m[2]);
  } else {
    std::cerr << "kv-bench: could not parse db_bench output:\n" << out;
  }
  if (std::regex_search(out, m, std::regex(R"(P50: ([\d.]+) P75: [\d.]+ P99: ([\d.]+) P99\.9: ([\d.]+))"))) {
    r.p50_us = std::stod(m[1]);
    r.p99_us = std::stod(m[2]);
    r.p999_us = std::stod(m[3]);
  }
  return r;
}

void Print(const Result& r, double baseline_ops) {
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << absl::StrFormat(
        R"({"name":"%s","concurrency":%d,"ops":%d,"ops_per_sec":%.1f,"p50_us":%.1f,"p90_us":%.1f,"p99_us":%.1f,"p999_us":%.1f,"errors":%d,"server_rss_kb":%d,"ratio_to_baseline":%.3f})",
        r.name, r.concurrency, r.ops, r.ops_per_sec, r.p50_us, r.p90_us, r.p99_us,
        r.p999_us, r.errors, r.rss_kb, baseline_ops > 0 ? r.ops_per_sec / baseline_ops : 0)
              << "\n";
    return;
  }
  std::cout << absl::StrFormat(
      "%-28s c=%-3d %9.0f ops/s  p50 %7.0f us  p90 %7.0f us  p99 %7.0f us  p99.9 %7.0f us  "
      "errors %d%s%s\n",
      r.name, r.concurrency, r.ops_per_sec, r.p50_us, r.p90_us, r.p99_us, r.p999_us,
      r.errors, r.rss_kb >= 0 ? absl::StrFormat("  rss %.1f MiB", r.rss_kb / 1024.0) : "",
      baseline_ops > 0 ? absl::StrFormat("  ratio %.2fx", r.ops_per_sec / baseline_ops)
                       : "");
}

int Main() {
  if (absl::GetFlag(FLAGS_workload) != "put") {
    std::cerr << "kv-bench: unknown workload " << absl::GetFlag(FLAGS_workload)
              << " (this version has: put)\n";
    return 2;
  }
  std::unique_ptr<OwnedCentral> owned;
  std::string addr = absl::GetFlag(FLAGS_addr);
  pid_t pid = -1;
  if (addr.empty()) {
    if (absl::GetFlag(FLAGS_central_bin).empty()) {
      std::cerr << "kv-bench: give --addr or --central_bin\n";
      return 2;
    }
    owned = OwnedCentral::Start(absl::GetFlag(FLAGS_central_bin));
    if (owned == nullptr) return 1;
    addr = owned->addr();
    pid = owned->pid();
  }
  auto stub = kv::v1::Kv::NewStub(grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  kv::v1::CreateNamespaceRequest create;
  create.set_title(absl::StrCat("kv-bench-", absl::ToUnixNanos(absl::Now())));
  kv::v1::Namespace ns;
  grpc::ClientContext ctx;
  if (!absl::GetFlag(FLAGS_token).empty()) {
    ctx.AddMetadata("authorization", "Bearer " + absl::GetFlag(FLAGS_token));
  }
  grpc::Status s = stub->CreateNamespace(&ctx, create, &ns);
  if (!s.ok()) {
    std::cerr << "kv-bench: cannot create a namespace at " << addr << ": "
              << s.error_message() << "\n";
    return 1;
  }
  for (absl::string_view c : absl::StrSplit(absl::GetFlag(FLAGS_concurrency), ',')) {
    int concurrency;
    if (!absl::SimpleAtoi(c, &concurrency) || concurrency < 1) {
      std::cerr << "kv-bench: bad --concurrency entry \"" << c << "\"\n";
      return 2;
    }
    Result ours = RunPut(addr, ns.id(), concurrency, pid);
    double baseline = 0;
    if (absl::GetFlag(FLAGS_baseline)) {
      Result base = RunDbBench(concurrency);
      Print(base, 0);
      baseline = base.ops_per_sec;
    }
    Print(ours, baseline);
  }
  return 0;
}

}  // namespace
}  // namespace kv::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return kv::bench::Main();
}
