// cache_bench: the edge cache's hit cost and memory per entry, next to the
// simple LRU of ../shared/baselines/lru_bench.cc (std::list + one
// absl::flat_hash_map under one mutex) measured in the same run.
//
//   build/tools/cache_bench [--entries=1000000] [--ops=5000000]
//
// Keys are 16 bytes (plus the 32-byte namespace id the edge prefixes),
// values 100 bytes, lookups uniform over all entries. Each op builds the
// key, looks it up, marks it used (the edge cache: its second-chance bit;
// the simple LRU: a move to the most-recent end) and copies the value out. Memory: heap bytes (glibc mallinfo2) per entry beyond key + value.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/string_view.h"
#include "edge/lru_cache.h"

ABSL_FLAG(int64_t, entries, 1'000'000, "Entries in the cache.");
ABSL_FLAG(int64_t, ops, 5'000'000, "Lookups per thread.");

namespace {

constexpr size_t kKeyBytes = 16;
constexpr size_t kValueBytes = 100;
constexpr char kNs[] = "0123456789abcdef0123456789abcdef";

void FillKey(uint64_t i, char* out) {
  std::memcpy(out, kNs, 32);
  std::memcpy(out + 32, &i, 8);
  std::memcpy(out + 40, "kv-bench", 8);
}

struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ULL;
  }
};

long HeapBytes() { return static_cast<long>(mallinfo2().uordblks); }

// The baseline: list front = most recent, one mutex.
class SimpleLru {
 public:
  explicit SimpleLru(size_t n) {
    map_.reserve(n);
    char k[48];
    for (size_t i = 0; i < n; ++i) {
      FillKey(i, k);
      list_.push_front({std::string(k, 48), std::string(kValueBytes, 'v')});
      map_.emplace(absl::string_view(list_.front().first), list_.begin());
    }
  }
  bool Get(absl::string_view key, std::string* out) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    list_.splice(list_.begin(), list_, it->second);
    *out = it->second->second;
    return true;
  }

 private:
  using Item = std::pair<std::string, std::string>;
  std::mutex mu_;
  std::list<Item> list_;
  absl::flat_hash_map<absl::string_view, std::list<Item>::iterator> map_;
};

template <class Get>
double NsPerOp(int threads, uint64_t ops, uint64_t span, Get get) {
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Rng rng{0x9E3779B97F4A7C15ULL * (t + 1)};
      char k[48];
      std::string value;
      for (uint64_t i = 0; i < ops; ++i) {
        FillKey(rng.Next() % span, k);
        if (!get(absl::string_view(k, 48), &value)) std::abort();
      }
    });
  }
  for (auto& w : workers) w.join();
  const double ns = std::chrono::duration<double, std::nano>(
                        std::chrono::steady_clock::now() - start).count();
  return ns / (static_cast<double>(ops) * threads);  // aggregate ns per op
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const size_t n = absl::GetFlag(FLAGS_entries);
  const uint64_t ops = absl::GetFlag(FLAGS_ops);
  const size_t payload = 48 + kValueBytes;

  long before = HeapBytes();
  auto simple = std::make_unique<SimpleLru>(n);
  const double simple_per_entry = static_cast<double>(HeapBytes() - before) / n;

  before = HeapBytes();
  auto cache = std::make_unique<kv::edge::LruCache>(
      kv::edge::LruCacheOptions{.capacity_bytes = size_t{4} << 30, .num_shards = 16});
  {
    char k[48];
    const std::string value(kValueBytes, 'v');
    for (size_t i = 0; i < n; ++i) {
      FillKey(i, k);
      cache->Insert(kv::edge::CachedEntryRef(kv::edge::CachedEntry::NewFound(
          absl::string_view(k, 48), value, std::nullopt, 0, kv::Version{1, 0, 1},
          absl::ZeroDuration())));
    }
  }
  const double ours_per_entry = static_cast<double>(HeapBytes() - before) / n;
  const double charged_per_entry = static_cast<double>(cache->bytes()) / n;

  std::printf("entries %zu, key 48 B (32 B namespace id + 16 B key), value %zu B\n", n,
              kValueBytes);
  std::printf("memory per entry beyond key+value: edge cache %.0f B (charged %.0f B), "
              "simple LRU %.0f B\n",
              ours_per_entry - payload, charged_per_entry - payload,
              simple_per_entry - payload);
  for (int threads : {1, 2}) {
    const double base = NsPerOp(threads, ops, n, [&](absl::string_view k, std::string* out) {
      return simple->Get(k, out);
    });
    const double ours = NsPerOp(threads, ops, n, [&](absl::string_view k, std::string* out) {
      kv::edge::CachedEntryRef e = cache->Get(k);
      if (!e) return false;
      out->assign(e->value().data(), e->value().size());
      return true;
    });
    std::printf("hit, %d thread%s: edge cache %.0f ns/op, simple LRU %.0f ns/op (aggregate "
                "ns per op; ratio %.2fx)\n",
                threads, threads == 1 ? "" : "s", ours, base, base / ours);
  }
  return 0;
}
