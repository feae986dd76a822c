#include "edge/lru_cache.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kv::edge {
namespace {

constexpr char kNs[] = "0123456789abcdef0123456789abcdef";

CachedEntryRef Found(absl::string_view key, absl::string_view value, Version v = {1, 0, 1}) {
  return CachedEntryRef(CachedEntry::NewFound(LruCache::CacheKey(kNs, key), value,
                                              std::nullopt, 0, v, absl::ZeroDuration()));
}

TEST(LruCacheTest, GetReturnsWhatWasInserted) {
  LruCache cache({.capacity_bytes = 1 << 20, .num_shards = 4});
  ASSERT_TRUE(cache.Insert(CachedEntryRef(CachedEntry::NewFound(
      LruCache::CacheKey(kNs, "k"), "value", absl::string_view("{\"m\":1}"), 99,
      Version{5, 1, 2}, absl::Seconds(3)))));
  CachedEntryRef e = cache.Get(LruCache::CacheKey(kNs, "k"));
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->found());
  EXPECT_EQ(e->value(), "value");
  EXPECT_TRUE(e->has_metadata());
  EXPECT_EQ(e->metadata(), "{\"m\":1}");
  EXPECT_EQ(e->expiration(), 99);
  EXPECT_EQ(e->version(), (Version{5, 1, 2}));
  EXPECT_EQ(e->cached_at(), absl::Seconds(3));
  EXPECT_FALSE(cache.Get(LruCache::CacheKey(kNs, "other")));
}

// Revalidation after a loss of continuity: the entries cached before a mark
// are listed; marking one revalidated advances its cached_at only while it
// is still the cached entry of its key (never backwards), and EraseEntry
// drops only that very entry.
TEST(LruCacheTest, RevalidationTouchesOnlyTheEntryStillCached) {
  LruCache cache({.capacity_bytes = 1 << 20, .num_shards = 4});
  auto at = [](absl::string_view key, absl::Duration t, Version v = {1, 0, 1}) {
    return CachedEntryRef(CachedEntry::NewFound(LruCache::CacheKey(kNs, key), "v",
                                                std::nullopt, 0, v, t));
  };
  ASSERT_TRUE(cache.Insert(at("old1", absl::Seconds(1))));
  ASSERT_TRUE(cache.Insert(at("old2", absl::Seconds(2))));
  ASSERT_TRUE(cache.Insert(at("new", absl::Seconds(5))));
  std::vector<CachedEntryRef> suspects = cache.EntriesCachedBefore(absl::Seconds(3));
  ASSERT_EQ(suspects.size(), 2u);
  for (const CachedEntryRef& e : suspects) EXPECT_LT(e->cached_at(), absl::Seconds(3));

  const CachedEntryRef& first = suspects[0];
  EXPECT_TRUE(cache.MarkRevalidated(*first, absl::Seconds(7)));
  EXPECT_EQ(cache.Get(std::string(first->cache_key()))->cached_at(), absl::Seconds(7));
  EXPECT_TRUE(cache.MarkRevalidated(*first, absl::Seconds(6)));  // never backwards
  EXPECT_EQ(first->cached_at(), absl::Seconds(7));

  // Replaced by the stream (newer version): the old entry is left alone.
  const CachedEntryRef& second = suspects[1];
  const std::string key(second->cache_key().substr(sizeof(kNs) - 1));
  ASSERT_TRUE(cache.Insert(at(key, absl::Seconds(2), Version{9, 0, 1})));
  EXPECT_FALSE(cache.MarkRevalidated(*second, absl::Seconds(8)));
  EXPECT_FALSE(cache.EraseEntry(*second));
  CachedEntryRef current = cache.Get(std::string(second->cache_key()));
  ASSERT_TRUE(current);
  EXPECT_EQ(current->version(), (Version{9, 0, 1}));
  EXPECT_EQ(current->cached_at(), absl::Seconds(2));
  EXPECT_TRUE(cache.EraseEntry(*current));
  EXPECT_FALSE(cache.Get(std::string(second->cache_key())));
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.EntriesCachedBefore(absl::Seconds(3)).size(), 0u);
}

TEST(LruCacheTest, NotFoundEntries) {
  LruCache cache({.capacity_bytes = 1 << 20, .num_shards = 1});
  cache.Insert(CachedEntryRef(CachedEntry::NewNotFound(LruCache::CacheKey(kNs, "gone"),
                                                       Version{}, absl::ZeroDuration())));
  CachedEntryRef e = cache.Get(LruCache::CacheKey(kNs, "gone"));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->found());
}

TEST(LruCacheTest, OlderVersionsNeverReplaceNewerOnes) {
  LruCache cache({.capacity_bytes = 1 << 20, .num_shards = 1});
  ASSERT_TRUE(cache.Insert(Found("k", "new", Version{10, 0, 1})));
  EXPECT_FALSE(cache.Insert(Found("k", "old", Version{9, 0, 1})));
  EXPECT_EQ(cache.Get(LruCache::CacheKey(kNs, "k"))->value(), "new");
  EXPECT_TRUE(cache.Insert(Found("k", "newer", Version{10, 1, 1})));
  EXPECT_EQ(cache.Get(LruCache::CacheKey(kNs, "k"))->value(), "newer");
  EXPECT_EQ(cache.entries(), 1u);
}

TEST(LruCacheTest, InvalidateDropsOnlyOlderVersions) {
  LruCache cache({.capacity_bytes = 1 << 20, .num_shards = 1});
  cache.Insert(Found("k", "v", Version{10, 0, 1}));
  EXPECT_FALSE(cache.Invalidate(LruCache::CacheKey(kNs, "k"), Version{10, 0, 1}));
  EXPECT_FALSE(cache.Invalidate(LruCache::CacheKey(kNs, "k"), Version{9, 0, 1}));
  EXPECT_TRUE(cache.Get(LruCache::CacheKey(kNs, "k")));
  EXPECT_TRUE(cache.Invalidate(LruCache::CacheKey(kNs, "k"), Version{11, 0, 1}));
  EXPECT_FALSE(cache.Get(LruCache::CacheKey(kNs, "k")));
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(LruCacheTest, RefreshReplacesOnlyCachedOlderEntries) {
  LruCache cache({.capacity_bytes = 1 << 20, .num_shards = 1});
  EXPECT_FALSE(cache.Refresh(Found("cold", "v", Version{2, 0, 1})));
  EXPECT_FALSE(cache.Get(LruCache::CacheKey(kNs, "cold")));
  cache.Insert(Found("hot", "v1", Version{2, 0, 1}));
  EXPECT_TRUE(cache.Refresh(Found("hot", "v2", Version{3, 0, 1})));
  EXPECT_EQ(cache.Get(LruCache::CacheKey(kNs, "hot"))->value(), "v2");
  EXPECT_FALSE(cache.Refresh(Found("hot", "v0", Version{1, 0, 1})));
  EXPECT_EQ(cache.Get(LruCache::CacheKey(kNs, "hot"))->value(), "v2");
}

TEST(LruCacheTest, ARefOutlivesEviction) {
  LruCache cache({.capacity_bytes = 1 << 20, .num_shards = 1});
  cache.Insert(Found("k", std::string(1000, 'x')));
  CachedEntryRef held = cache.Get(LruCache::CacheKey(kNs, "k"));
  cache.Clear();
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(held->value(), std::string(1000, 'x'));
}

TEST(LruCacheTest, EvictsLeastRecentlyUsedWithinTheByteBound) {
  LruCache cache({.capacity_bytes = 64 << 10, .num_shards = 1});
  const std::string value(1000, 'v');
  cache.Insert(Found("first", value));
  for (int i = 0; i < 200; ++i) {
    cache.Get(LruCache::CacheKey(kNs, "first"));  // keep it hot
    cache.Insert(Found(absl::StrCat("k", i), value));
    ASSERT_LE(cache.bytes(), cache.capacity_bytes());
  }
  EXPECT_TRUE(cache.Get(LruCache::CacheKey(kNs, "first")));
  EXPECT_FALSE(cache.Get(LruCache::CacheKey(kNs, "k0")));
  EXPECT_TRUE(cache.Get(LruCache::CacheKey(kNs, "k199")));
  EXPECT_GT(cache.evictions(), 100u);
  // Nearly full: within one entry of the bound.
  EXPECT_GT(cache.bytes(), cache.capacity_bytes() - 2 * 1200);
}

// Second chance, step by step: one shard holding exactly three entries.
// (Here the outcome is the same as strict LRU's.)
TEST(LruCacheTest, EvictionGivesEntriesReadSinceTheyWereOldestASecondChance) {
  const std::string value(1000, 'v');
  // Room for three and a half: malloc may hand out a few bytes more than
  // asked, so charges differ slightly from entry to entry.
  const size_t charge = Found("a", value)->charge();
  LruCache cache({.capacity_bytes = 3 * charge + charge / 2, .num_shards = 1});
  auto cached = [&](const char* key) {
    return static_cast<bool>(cache.Get(LruCache::CacheKey(kNs, key)));
  };
  cache.Insert(Found("a", value));
  cache.Insert(Found("b", value));
  cache.Insert(Found("c", value));
  ASSERT_EQ(cache.entries(), 3u);
  // a was read: d evicts b, the oldest unread entry; a becomes the newest.
  ASSERT_TRUE(cached("a"));
  cache.Insert(Found("d", value));
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_FALSE(cached("b"));
  // Oldest first: c, d, a. e evicts c, never read.
  cache.Insert(Found("e", value));
  EXPECT_FALSE(cached("c"));
  // d, a, e remain; every one read; f passes over all of them once
  // (clearing their marks) and evicts the oldest, d.
  ASSERT_TRUE(cached("d") && cached("a") && cached("e"));
  cache.Insert(Found("f", value));
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_FALSE(cached("d"));
  EXPECT_TRUE(cached("a"));
  EXPECT_TRUE(cached("e"));
  EXPECT_TRUE(cached("f"));
  EXPECT_LE(cache.bytes(), cache.capacity_bytes());
}

TEST(LruCacheTest, RefusesAnEntryLargerThanAShard) {
  LruCache cache({.capacity_bytes = 16 << 10, .num_shards = 4});
  EXPECT_FALSE(cache.Insert(Found("big", std::string(5000, 'b'))));
  EXPECT_EQ(cache.entries(), 0u);
}

TEST(LruCacheTest, ChargeCountsOverheadButStaysSmall) {
  CachedEntryRef e = Found("0123456789abcdef", std::string(100, 'v'));
  const size_t payload = 32 + 16 + 100;
  EXPECT_GE(e->charge(), payload);
  EXPECT_LE(e->charge() - payload, 120u) << "per-entry overhead";
}

TEST(LruCacheTest, EraseNamespaceDropsOnlyItsKeys) {
  LruCache cache({.capacity_bytes = 1 << 20, .num_shards = 4});
  const std::string other = "ffffffffffffffffffffffffffffffff";
  for (int i = 0; i < 50; ++i) {
    cache.Insert(Found(absl::StrCat("k", i), "v"));
    cache.Insert(CachedEntryRef(CachedEntry::NewFound(
        LruCache::CacheKey(other, absl::StrCat("k", i)), "v", std::nullopt, 0,
        Version{1, 0, 1}, absl::ZeroDuration())));
  }
  EXPECT_EQ(cache.EraseNamespace(kNs), 50u);
  EXPECT_EQ(cache.entries(), 50u);
  EXPECT_TRUE(cache.Get(LruCache::CacheKey(other, "k3")));
}

TEST(LruCacheTest, ConcurrentUseKeepsTheBound) {
  LruCache cache({.capacity_bytes = 256 << 10, .num_shards = 8});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 5000; ++i) {
        const std::string key = absl::StrCat("k", (i * 7 + t) % 3000);
        switch (i % 4) {
          case 0:
            cache.Insert(Found(key, std::string(100 + i % 300, 'x'),
                               Version{static_cast<uint64_t>(i), 0, 1}));
            break;
          case 1:
            cache.Invalidate(LruCache::CacheKey(kNs, key),
                             Version{static_cast<uint64_t>(i), 0, 1});
            break;
          default:
            if (CachedEntryRef e = cache.Get(LruCache::CacheKey(kNs, key))) {
              ASSERT_EQ(e->value().find_first_not_of('x'), std::string::npos);
            }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.bytes(), cache.capacity_bytes());
}

}  // namespace
}  // namespace kv::edge
