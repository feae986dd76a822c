// Model-based fuzzing of the edge's cache (edge/lru_cache.h): the input is a
// program of cache operations (insert, refresh, get, invalidate by version
// or unconditionally, erase a namespace, clear) run against a one-shard
// LruCache and against a plain model of its documented policy: a list from
// oldest to newest with a "referenced" mark per entry; a hit marks; an
// insert replaces an older-or-equal version of its key and goes to the new
// end; while over capacity the oldest entry goes unless marked (or just
// inserted), in which case it becomes the newest and loses its mark (CLOCK,
// second chance). After every step the cache must hold exactly the model's
// entries (key, version, value) within its capacity, with the model's byte
// count and eviction count.
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>

#include "absl/strings/str_cat.h"
#include "edge/lru_cache.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/fuzz_check.h"

namespace kv::edge {
namespace {

constexpr char kNamespaces[2][33] = {"0123456789abcdef0123456789abcdef",
                                     "fedcba9876543210fedcba9876543210"};

// The program's operands.
class Program : public ByteReader {
 public:
  using ByteReader::ByteReader;
  // One of 12 keys over the two namespaces.
  std::string CacheKey() {
    const uint8_t b = Byte();
    return LruCache::CacheKey(kNamespaces[b % 2], std::string(1, static_cast<char>('a' + b / 2 % 6)));
  }
  kv::Version SomeVersion() { return kv::Version{1'000u + Byte() % 8, 0, 1}; }
};

struct ModelEntry {
  std::string key;
  kv::Version version;
  std::string value;
  size_t charge = 0;
  bool referenced = false;
};

// The documented policy, written plainly.
class Model {
 public:
  explicit Model(size_t capacity) : capacity_(capacity) {}

  ModelEntry* Find(const std::string& key) {
    for (ModelEntry& e : list_) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
  void Get(const std::string& key) {
    if (ModelEntry* e = Find(key)) e->referenced = true;
  }
  bool Insert(ModelEntry entry, bool only_if_present) {
    if (entry.charge > capacity_) return false;
    ModelEntry* present = Find(entry.key);
    if (present != nullptr && entry.version < present->version) return false;
    if (present == nullptr && only_if_present) return false;
    if (present != nullptr) Remove(entry.key);
    bytes_ += entry.charge;
    list_.push_back(std::move(entry));
    auto fresh = std::prev(list_.end());
    while (bytes_ > capacity_ && list_.size() > 1) {
      auto oldest = list_.begin();
      if (oldest == fresh || oldest->referenced) {
        oldest->referenced = false;
        list_.splice(list_.end(), list_, oldest);
        continue;
      }
      bytes_ -= oldest->charge;
      list_.erase(oldest);
      ++evictions_;
    }
    return true;
  }
  bool Invalidate(const std::string& key, const kv::Version& version) {
    ModelEntry* e = Find(key);
    if (e == nullptr || (!version.IsZero() && !(e->version < version))) return false;
    Remove(key);
    return true;
  }
  size_t EraseNamespace(const std::string& ns) {
    size_t erased = 0;
    for (auto it = list_.begin(); it != list_.end();) {
      if (it->key.compare(0, ns.size(), ns) == 0) {
        bytes_ -= it->charge;
        it = list_.erase(it);
        ++erased;
      } else {
        ++it;
      }
    }
    return erased;
  }
  void Clear() {
    list_.clear();
    bytes_ = 0;
  }

  const std::list<ModelEntry>& entries() const { return list_; }
  size_t bytes() const { return bytes_; }
  uint64_t evictions() const { return evictions_; }

 private:
  void Remove(const std::string& key) {
    for (auto it = list_.begin(); it != list_.end(); ++it) {
      if (it->key == key) {
        bytes_ -= it->charge;
        list_.erase(it);
        return;
      }
    }
  }

  const size_t capacity_;
  std::list<ModelEntry> list_;
  size_t bytes_ = 0;
  uint64_t evictions_ = 0;
};

// The cache holds exactly the model's entries. Reads through the cache
// would mark them, so compare through a snapshot that does not.
void CheckSame(LruCache& cache, Model& model, size_t capacity) {
  KV_FUZZ_CHECK(cache.bytes() == model.bytes());
  KV_FUZZ_CHECK(cache.bytes() <= capacity || cache.entries() <= 1);
  KV_FUZZ_CHECK(cache.entries() == model.entries().size());
  KV_FUZZ_CHECK(cache.evictions() == model.evictions());
  const std::vector<CachedEntryRef> all = cache.EntriesCachedBefore(absl::InfiniteDuration());
  KV_FUZZ_CHECK(all.size() == model.entries().size());
  for (const CachedEntryRef& e : all) {
    ModelEntry* m = model.Find(std::string(e->cache_key()));
    KV_FUZZ_CHECK(m != nullptr);
    KV_FUZZ_CHECK(e->version() == m->version);
    KV_FUZZ_CHECK(e->value() == m->value);
  }
}

}  // namespace
}  // namespace kv::edge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kv::edge;  // NOLINT
  Program program(data, size);
  // Room for a few entries, so that evictions happen.
  const size_t capacity = 256 + 64 * (program.Byte() % 8);
  LruCache cache(LruCacheOptions{.capacity_bytes = capacity, .num_shards = 1});
  Model model(capacity);
  for (int steps = 0; !program.done() && steps < 256; ++steps) {
    switch (program.Byte() % 7) {
      case 0:
      case 1: {  // insert (or refresh): found or not found
        const std::string key = program.CacheKey();
        const kv::Version version = program.SomeVersion();
        const bool refresh = program.Byte() % 4 == 0;
        const std::string value(program.Byte() % 96, 'v');
        CachedEntry* entry =
            value.empty() ? CachedEntry::NewNotFound(key, version, absl::ZeroDuration())
                          : CachedEntry::NewFound(key, value, std::nullopt, 0, version,
                                                  absl::ZeroDuration());
        ModelEntry m{key, version, std::string(entry->value()), entry->charge()};
        CachedEntryRef ref(entry);
        const bool inserted = refresh ? cache.Refresh(ref) : cache.Insert(ref);
        KV_FUZZ_CHECK(inserted == model.Insert(std::move(m), refresh));
        break;
      }
      case 2:
      case 3: {
        const std::string key = program.CacheKey();
        const CachedEntryRef got = cache.Get(key);
        KV_FUZZ_CHECK(static_cast<bool>(got) == (model.Find(key) != nullptr));
        model.Get(key);
        break;
      }
      case 4: {
        const std::string key = program.CacheKey();
        const uint8_t b = program.Byte();
        const kv::Version version = b % 3 == 0 ? kv::Version() : program.SomeVersion();
        KV_FUZZ_CHECK(cache.Invalidate(key, version) == model.Invalidate(key, version));
        break;
      }
      case 5: {
        const std::string ns = kNamespaces[program.Byte() % 2];
        KV_FUZZ_CHECK(cache.EraseNamespace(ns) == model.EraseNamespace(ns));
        break;
      }
      default:
        if (program.Byte() % 8 == 0) {
          cache.Clear();
          model.Clear();
        }
        break;
    }
    CheckSame(cache, model, capacity);
  }
  return 0;
}
