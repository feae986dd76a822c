#ifndef KV_EDGE_RECENT_WRITES_H_
#define KV_EDGE_RECENT_WRITES_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/version.h"

namespace kv::edge {

// The versions of this edge's own acknowledged writes (puts and deletes)
// over the last `keep_for` (the window), so that a read through this edge
// returns its own write, or something newer, even after the cache evicted
// it and whichever central answers (DESIGN §1: "the edge keeps its recent
// writes even if evicted"). Only versions are kept, never values: a miss
// fetches the value and checks it is at least this new.
// Bounded by `max_entries` (the oldest are forgotten first). Thread-safe.
class RecentWrites {
 public:
  struct Write {
    Version version;
    bool deleted = false;
  };

  RecentWrites(absl::Duration keep_for, size_t max_entries, Clock& clock);

  void Record(absl::string_view cache_key, const Version& version, bool deleted)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The newest write of `cache_key` still kept.
  std::optional<Write> Lookup(absl::string_view cache_key) ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

  // Whether a read result (found or not, with its version: for "not found",
  // its deletion's or zero) is at least as new as `write`.
  static bool Satisfies(bool found, const Version& version, const Write& write);

 private:
  struct Item {
    Write write;
    uint64_t recording = 0;  // the latest, numbered in order
  };
  struct Recording {
    std::string cache_key;
    uint64_t number;
    absl::Duration at;
  };
  void Prune(absl::Duration now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration keep_for_;
  const size_t max_entries_;
  Clock& clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Item> items_ ABSL_GUARDED_BY(mu_);
  // Recording order, for pruning; a key recorded again has a later entry.
  std::deque<Recording> order_ ABSL_GUARDED_BY(mu_);
  uint64_t recordings_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kv::edge

#endif  // KV_EDGE_RECENT_WRITES_H_
