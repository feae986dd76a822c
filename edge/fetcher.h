#ifndef KV_EDGE_FETCHER_H_
#define KV_EDGE_FETCHER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "edge/central_pool.h"
#include "edge/lru_cache.h"
#include "edge/recent_writes.h"

namespace kv::edge {

// A cache entry from a central's answer for the key of `cache_key`, current
// as of `asked_at`.
CachedEntryRef EntryFromProto(absl::string_view cache_key, const kv::v1::Entry& entry,
                              absl::Duration asked_at);

// Fills the cache from the centrals. Concurrent misses on one key share one
// fetch; several keys of one read go in one upstream call. An invalidation
// that arrives while a fetch of the same key is in flight wins: the fetched
// result is returned to the readers that asked but not cached, so a
// result older than the invalidation never outlives it.
// Thread-safe; Fetch blocks on the upstream call.
class Fetcher {
 public:
  // All references must outlive the fetcher.
  // With `recent`, a fetched result older than this edge's own recent write
  // of the key is returned but never cached.
  Fetcher(CentralPool& pool, LruCache& cache, Clock& clock, RecentWrites* recent = nullptr);

  // One entry per key (found or "not found"), in order. The namespace's
  // ownership has been checked by the caller. UNAVAILABLE when no central
  // answers; the central's error otherwise.
  absl::StatusOr<std::vector<CachedEntryRef>> Fetch(absl::string_view namespace_id,
                                                    const std::vector<std::string>& keys,
                                                    absl::string_view authorization)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `update_cache` (the stream's change to the cache entry of
  // `cache_key`) and marks fetches in flight for that key as superseded, as
  // one step with respect to a fetch storing its result: either the fetched
  // result is stored first and `update_cache` then sees it, or it is not
  // stored at all.
  void ApplyInvalidation(absl::string_view cache_key,
                         absl::FunctionRef<void()> update_cache) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct InFlight {
    absl::Notification done;
    absl::Status status;
    CachedEntryRef result;
    bool superseded = false;  // guarded by Fetcher::mu_
  };

  bool OlderThanOwnWrite(const CachedEntry& entry) const;

  CentralPool& pool_;
  LruCache& cache_;
  Clock& clock_;
  RecentWrites* const recent_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<InFlight>> in_flight_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::edge

#endif  // KV_EDGE_FETCHER_H_
