#ifndef KV_EDGE_LRU_CACHE_H_
#define KV_EDGE_LRU_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/version.h"

namespace kv::edge {

struct LruCacheOptions {
  // Bytes of keys, values, metadata and per-entry overhead together.
  // Default: 256 MiB (--cache_bytes).
  size_t capacity_bytes = size_t{256} << 20;
  // Shards, each with its own mutex and LRU list. Default: 16.
  int num_shards = 16;
};

// What the cache holds for one (namespace, key): a value or "not found",
// immutable once built. Key, metadata and value live in the same
// allocation as the header, so an entry costs one allocation plus a hash
// slot.
class CachedEntry {
 public:
  // Builds a found entry (metadata nullopt when the key has none).
  static CachedEntry* NewFound(absl::string_view cache_key, absl::string_view value,
                               const std::optional<absl::string_view>& metadata,
                               int64_t expiration, const Version& version,
                               absl::Duration cached_at);
  // Builds a "not found" entry (`version`: the tombstone's, or zero).
  static CachedEntry* NewNotFound(absl::string_view cache_key, const Version& version,
                                  absl::Duration cached_at);

  absl::string_view cache_key() const { return {data_, key_bytes_}; }
  bool found() const { return found_; }
  absl::string_view value() const {
    return {data_ + key_bytes_ + metadata_bytes_, value_bytes_};
  }
  bool has_metadata() const { return has_metadata_; }
  absl::string_view metadata() const { return {data_ + key_bytes_, metadata_bytes_}; }
  int64_t expiration() const { return expiration_; }
  // For a "not found" entry: the version of the tombstone, or zero.
  const Version& version() const { return version_; }
  // Monotonic time as of which the entry is known current: when the read
  // that filled it was sent, or when it was last revalidated.
  absl::Duration cached_at() const {
    return absl::Nanoseconds(cached_at_ns_.load(std::memory_order_relaxed));
  }
  // Bytes charged against the capacity: the allocation plus its hash slot.
  size_t charge() const;

 private:
  friend class LruCache;
  friend class CachedEntryRef;
  CachedEntry() = default;
  static CachedEntry* Allocate(size_t payload_bytes);
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref();

  // Intrusive LRU list of its shard; guarded by the shard mutex.
  CachedEntry* prev_ = nullptr;
  CachedEntry* next_ = nullptr;
  Version version_;
  int64_t expiration_ = 0;
  std::atomic<int64_t> cached_at_ns_{0};  // monotonic; advanced by MarkRevalidated
  uint64_t hash_ = 0;
  std::atomic<uint32_t> refs_{1};
  uint32_t value_bytes_ = 0;
  uint16_t key_bytes_ = 0;
  uint16_t metadata_bytes_ = 0;
  bool found_ = false;
  bool has_metadata_ = false;
  void SetHash();
  // Guarded by the shard mutex; one byte together, apart from the
  // immutable fields that readers see without the mutex.
  bool in_cache_ : 1 = false;
  // Read since it was last passed over by eviction (second chance).
  bool referenced_ : 1 = false;
  char data_[1];           // key, metadata, value
};

// A counted reference to an entry: stays valid after the entry is evicted,
// replaced or invalidated. Movable, cheap to copy.
class CachedEntryRef {
 public:
  CachedEntryRef() = default;
  explicit CachedEntryRef(CachedEntry* adopted) : entry_(adopted) {}
  CachedEntryRef(const CachedEntryRef& other);
  CachedEntryRef& operator=(CachedEntryRef other) noexcept;
  CachedEntryRef(CachedEntryRef&& other) noexcept : entry_(other.entry_) {
    other.entry_ = nullptr;
  }
  ~CachedEntryRef();

  const CachedEntry* get() const { return entry_; }
  const CachedEntry* operator->() const { return entry_; }
  const CachedEntry& operator*() const { return *entry_; }
  explicit operator bool() const { return entry_ != nullptr; }

 private:
  CachedEntry* entry_ = nullptr;
};

// A bytes-bounded, sharded LRU cache of CachedEntry keyed by the composite
// cache key (namespace id + user key; see CacheKey()).
// Eviction is LRU with second chance (CLOCK): a hit only marks the entry
// referenced, and eviction, taking the oldest entry, makes a referenced one
// the newest instead (clearing the mark). So a hit writes to no list
// neighbour (on a large cache those are cache misses: the hit costs about
// half), and an entry read since it last reached the old end is never
// evicted before every unread one older than it.
// Thread-safe; no method does I/O or holds more than one shard's mutex, and
// entries are freed outside the locks.
class LruCache {
 public:
  explicit LruCache(const LruCacheOptions& options);
  ~LruCache();
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  static std::string CacheKey(absl::string_view namespace_id, absl::string_view key);
  // CacheKey(namespace_id, key) built on the stack for keys up to ~100
  // bytes: the read path builds one per key of every request.
  class KeyBuffer {
   public:
    KeyBuffer(absl::string_view namespace_id, absl::string_view key);
    absl::string_view view() const { return {bytes_.data(), bytes_.size()}; }

   private:
    absl::InlinedVector<char, 136> bytes_;
  };

  // The entry, or an empty ref when absent. Marks it referenced: eviction
  // passes over it once, making it the newest (second chance).
  CachedEntryRef Get(absl::string_view cache_key);

  // Inserts `entry` unless the cache holds a newer version of the key.
  // Returns false, storing nothing, when a newer version is cached or the
  // entry alone exceeds a shard's capacity.
  bool Insert(CachedEntryRef entry);

  // Replaces the cached entry of the same key when it is older than
  // `entry` (a hot key refreshed in place by the invalidation stream);
  // stores nothing when the key is not cached. Returns true when replaced.
  bool Refresh(CachedEntryRef entry);

  // Drops the entry when its version is older than `version` (or
  // unconditionally when `version` is zero). Returns true when one was
  // dropped.
  bool Invalidate(absl::string_view cache_key, const Version& version);

  // The entries whose cached_at() is before `before` (a snapshot: the
  // cache may change as soon as it returns).
  std::vector<CachedEntryRef> EntriesCachedBefore(absl::Duration before);

  // Advances `entry`'s cached_at() to `as_of` when it is still the cached
  // entry of its key (not replaced, invalidated or evicted since). Returns
  // whether it was.
  bool MarkRevalidated(const CachedEntry& entry, absl::Duration as_of);

  // Drops `entry` when it is still the cached entry of its key. Returns
  // whether it was.
  bool EraseEntry(const CachedEntry& entry);

  // Drops every entry of a namespace (namespace deleted).
  size_t EraseNamespace(absl::string_view namespace_id);

  // Drops everything (the edge cannot prove it missed no change).
  void Clear();

  size_t bytes() const;
  size_t entries() const;
  uint64_t evictions() const;
  size_t capacity_bytes() const { return options_.capacity_bytes; }

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const CachedEntry* e) const { return e->hash_; }
    size_t operator()(absl::string_view key) const;
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(const CachedEntry* a, const CachedEntry* b) const {
      return a->cache_key() == b->cache_key();
    }
    bool operator()(const CachedEntry* a, absl::string_view b) const {
      return a->cache_key() == b;
    }
    bool operator()(absl::string_view a, const CachedEntry* b) const {
      return a == b->cache_key();
    }
  };

  struct Shard {
    absl::Mutex mu;
    absl::flat_hash_set<CachedEntry*, KeyHash, KeyEq> table ABSL_GUARDED_BY(mu);
    // Circular list; head is the oldest, head->prev_ the newest.
    CachedEntry* head ABSL_GUARDED_BY(mu) = nullptr;
    size_t bytes ABSL_GUARDED_BY(mu) = 0;
    uint64_t evictions ABSL_GUARDED_BY(mu) = 0;
  };

  // The high bits pick the shard; the table uses the rest.
  Shard& ShardFor(uint64_t hash) { return *shards_[(hash >> 48) % shards_.size()]; }
  // Unlinks `e` from `shard` (list, table, bytes) and appends it to
  // `garbage` so it is released after the lock.
  static void Remove(Shard& shard, CachedEntry* e, std::vector<CachedEntry*>& garbage)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  static void Release(std::vector<CachedEntry*>& garbage);
  // Links `entry` (already referenced for the cache) as the newest entry
  // and evicts older ones beyond the shard's capacity.
  void Link(Shard& shard, CachedEntry* entry, std::vector<CachedEntry*>& garbage)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(shard.mu);
  bool InsertImpl(CachedEntryRef entry, bool only_if_present);

  const LruCacheOptions options_;
  const size_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace kv::edge

#endif  // KV_EDGE_LRU_CACHE_H_
