// Invariants, per shard, under its mutex:
//  - every entry in `table` is in the circular list at `head` and has
//    in_cache_ = true, and the cache holds one reference to it;
//  - the list runs from the oldest (head) to the newest (head->prev_) by
//    insertion or last second chance; a hit only sets referenced_;
//  - `bytes` is the sum of charge() over the entries in `table`;
//  - after Insert returns, bytes <= shard capacity (older entries evicted).
// Entries are released (Unref) only after the shard mutex is dropped.
#include "edge/lru_cache.h"

#include <malloc.h>

#include <cstddef>
#include <cstring>
#include <new>

#include "absl/hash/hash.h"
#include "common/logging.h"

namespace kv::edge {
namespace {

// A hash-table slot (one pointer at 7/8 load, plus its control byte) and the
// malloc chunk header, charged on top of the allocation's usable size.
constexpr size_t kSlotBytes = (sizeof(void*) * 8 + 7) / 7 + 1;
constexpr size_t kMallocHeaderBytes = 8;
constexpr size_t kNamespaceIdBytes = 32;

}  // namespace

CachedEntry* CachedEntry::Allocate(size_t payload_bytes) {
  void* memory = ::operator new(offsetof(CachedEntry, data_) + payload_bytes);
  return new (memory) CachedEntry();
}

CachedEntry* CachedEntry::NewFound(absl::string_view cache_key, absl::string_view value,
                                   const std::optional<absl::string_view>& metadata,
                                   int64_t expiration, const Version& version,
                                   absl::Duration cached_at) {
  const size_t metadata_bytes = metadata ? metadata->size() : 0;
  CachedEntry* e = Allocate(cache_key.size() + metadata_bytes + value.size());
  e->key_bytes_ = static_cast<uint16_t>(cache_key.size());
  e->metadata_bytes_ = static_cast<uint16_t>(metadata_bytes);
  e->value_bytes_ = static_cast<uint32_t>(value.size());
  std::memcpy(e->data_, cache_key.data(), cache_key.size());
  if (metadata) std::memcpy(e->data_ + cache_key.size(), metadata->data(), metadata_bytes);
  std::memcpy(e->data_ + cache_key.size() + metadata_bytes, value.data(), value.size());
  e->found_ = true;
  e->has_metadata_ = metadata.has_value();
  e->expiration_ = expiration;
  e->version_ = version;
  e->cached_at_ns_.store(absl::ToInt64Nanoseconds(cached_at), std::memory_order_relaxed);
  e->SetHash();
  return e;
}

void CachedEntry::SetHash() {
  hash_ = absl::Hash<absl::string_view>()(cache_key());
}

CachedEntry* CachedEntry::NewNotFound(absl::string_view cache_key, const Version& version,
                                      absl::Duration cached_at) {
  CachedEntry* e = Allocate(cache_key.size());
  e->key_bytes_ = static_cast<uint16_t>(cache_key.size());
  std::memcpy(e->data_, cache_key.data(), cache_key.size());
  e->version_ = version;
  e->cached_at_ns_.store(absl::ToInt64Nanoseconds(cached_at), std::memory_order_relaxed);
  e->SetHash();
  return e;
}

size_t CachedEntry::charge() const {
  return malloc_usable_size(const_cast<CachedEntry*>(this)) + kMallocHeaderBytes +
         kSlotBytes;
}

void CachedEntry::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    this->~CachedEntry();
    ::operator delete(this);
  }
}

CachedEntryRef::CachedEntryRef(const CachedEntryRef& other) : entry_(other.entry_) {
  if (entry_ != nullptr) entry_->Ref();
}

CachedEntryRef& CachedEntryRef::operator=(CachedEntryRef other) noexcept {
  std::swap(entry_, other.entry_);
  return *this;
}

CachedEntryRef::~CachedEntryRef() {
  if (entry_ != nullptr) entry_->Unref();
}

size_t LruCache::KeyHash::operator()(absl::string_view key) const {
  return absl::Hash<absl::string_view>()(key);
}

LruCache::LruCache(const LruCacheOptions& options)
    : options_(options),
      shard_capacity_(options.capacity_bytes / std::max(1, options.num_shards)) {
  for (int i = 0; i < std::max(1, options.num_shards); ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

LruCache::~LruCache() { Clear(); }

std::string LruCache::CacheKey(absl::string_view namespace_id, absl::string_view key) {
  std::string out;
  out.reserve(namespace_id.size() + key.size());
  out.append(namespace_id.data(), namespace_id.size());
  out.append(key.data(), key.size());
  return out;
}

LruCache::KeyBuffer::KeyBuffer(absl::string_view namespace_id, absl::string_view key) {
  bytes_.reserve(namespace_id.size() + key.size());
  bytes_.insert(bytes_.end(), namespace_id.begin(), namespace_id.end());
  bytes_.insert(bytes_.end(), key.begin(), key.end());
}

void LruCache::Remove(Shard& shard, CachedEntry* e, std::vector<CachedEntry*>& garbage) {
  shard.table.erase(e);
  e->prev_->next_ = e->next_;
  e->next_->prev_ = e->prev_;
  if (shard.head == e) shard.head = (e->next_ == e) ? nullptr : e->next_;
  e->prev_ = e->next_ = nullptr;
  e->in_cache_ = false;
  shard.bytes -= e->charge();
  garbage.push_back(e);
}

void LruCache::Release(std::vector<CachedEntry*>& garbage) {
  for (CachedEntry* e : garbage) e->Unref();
  garbage.clear();
}

CachedEntryRef LruCache::Get(absl::string_view cache_key) {
  const uint64_t hash = KeyHash()(cache_key);
  Shard& shard = ShardFor(hash);
  absl::MutexLock lock(&shard.mu);
  auto it = shard.table.find(cache_key, hash);
  if (it == shard.table.end()) return CachedEntryRef();
  CachedEntry* e = *it;
  if (!e->referenced_) e->referenced_ = true;  // no list change: see Link
  e->Ref();
  return CachedEntryRef(e);
}

bool LruCache::Insert(CachedEntryRef entry) { return InsertImpl(std::move(entry), false); }

bool LruCache::Refresh(CachedEntryRef entry) { return InsertImpl(std::move(entry), true); }

void LruCache::Link(Shard& shard, CachedEntry* entry, std::vector<CachedEntry*>& garbage) {
  shard.table.insert(entry);
  entry->in_cache_ = true;
  if (shard.head == nullptr) {
    entry->prev_ = entry->next_ = entry;
    shard.head = entry;
  } else {
    entry->next_ = shard.head;
    entry->prev_ = shard.head->prev_;
    shard.head->prev_->next_ = entry;
    shard.head->prev_ = entry;
  }
  shard.bytes += entry->charge();
  // Second chance: the oldest entry goes unless read since it was last
  // here; then it becomes the newest (head moves on) and loses its mark.
  // Ends: every pass over an entry clears its mark, and the new entry (which
  // fits alone, see InsertImpl) is never evicted.
  while (shard.bytes > shard_capacity_ && shard.head->next_ != shard.head) {
    CachedEntry* oldest = shard.head;
    if (oldest == entry || oldest->referenced_) {
      oldest->referenced_ = false;
      shard.head = oldest->next_;
      continue;
    }
    Remove(shard, oldest, garbage);
    ++shard.evictions;
  }
}

bool LruCache::InsertImpl(CachedEntryRef ref, bool only_if_present) {
  if (!ref || ref->charge() > shard_capacity_) return false;
  CachedEntry* entry = const_cast<CachedEntry*>(ref.get());
  Shard& shard = ShardFor(entry->hash_);
  std::vector<CachedEntry*> garbage;
  bool inserted = false;
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.table.find(entry->cache_key(), entry->hash_);
    const bool present = it != shard.table.end();
    if (present && (*it)->version_ > entry->version_) {
      // A newer version is cached: keep it.
    } else if (!present && only_if_present) {
      // Not cached: a refresh does not fill the cache with cold keys.
    } else if (entry->in_cache_) {
      // Already cached (the same entry inserted twice): nothing to do.
    } else {
      if (present) Remove(shard, *it, garbage);
      entry->Ref();  // the cache's reference
      Link(shard, entry, garbage);
      inserted = true;
    }
  }
  Release(garbage);
  return inserted;
}

bool LruCache::Invalidate(absl::string_view cache_key, const Version& version) {
  const uint64_t hash = KeyHash()(cache_key);
  Shard& shard = ShardFor(hash);
  std::vector<CachedEntry*> garbage;
  {
    absl::MutexLock lock(&shard.mu);
    auto it = shard.table.find(cache_key, hash);
    if (it == shard.table.end()) return false;
    if (!version.IsZero() && !((*it)->version_ < version)) return false;
    Remove(shard, *it, garbage);
  }
  Release(garbage);
  return true;
}

std::vector<CachedEntryRef> LruCache::EntriesCachedBefore(absl::Duration before) {
  std::vector<CachedEntryRef> out;
  for (auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    for (CachedEntry* e : shard->table) {
      if (e->cached_at() < before) {
        e->Ref();
        out.emplace_back(e);
      }
    }
  }
  return out;
}

bool LruCache::MarkRevalidated(const CachedEntry& entry, absl::Duration as_of) {
  Shard& shard = ShardFor(entry.hash_);
  absl::MutexLock lock(&shard.mu);
  if (!entry.in_cache_) return false;
  const int64_t ns = absl::ToInt64Nanoseconds(as_of);
  if (entry.cached_at_ns_.load(std::memory_order_relaxed) < ns) {
    const_cast<CachedEntry&>(entry).cached_at_ns_.store(ns, std::memory_order_relaxed);
  }
  return true;
}

bool LruCache::EraseEntry(const CachedEntry& entry) {
  Shard& shard = ShardFor(entry.hash_);
  std::vector<CachedEntry*> garbage;
  {
    absl::MutexLock lock(&shard.mu);
    if (!entry.in_cache_) return false;
    Remove(shard, const_cast<CachedEntry*>(&entry), garbage);
  }
  Release(garbage);
  return true;
}

size_t LruCache::EraseNamespace(absl::string_view namespace_id) {
  size_t erased = 0;
  std::vector<CachedEntry*> garbage;
  for (auto& shard : shards_) {
    {
      absl::MutexLock lock(&shard->mu);
      std::vector<CachedEntry*> doomed;
      for (CachedEntry* e : shard->table) {
        if (e->cache_key().substr(0, kNamespaceIdBytes) == namespace_id) doomed.push_back(e);
      }
      for (CachedEntry* e : doomed) Remove(*shard, e, garbage);
      erased += doomed.size();
    }
    Release(garbage);
  }
  return erased;
}

void LruCache::Clear() {
  std::vector<CachedEntry*> garbage;
  for (auto& shard : shards_) {
    {
      absl::MutexLock lock(&shard->mu);
      while (shard->head != nullptr) Remove(*shard, shard->head, garbage);
    }
    Release(garbage);
  }
}

size_t LruCache::bytes() const {
  size_t total = 0;
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    total += shard->bytes;
  }
  return total;
}

size_t LruCache::entries() const {
  size_t total = 0;
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    total += shard->table.size();
  }
  return total;
}

uint64_t LruCache::evictions() const {
  uint64_t total = 0;
  for (const auto& shard : shards_) {
    absl::MutexLock lock(&shard->mu);
    total += shard->evictions;
  }
  return total;
}

}  // namespace kv::edge
