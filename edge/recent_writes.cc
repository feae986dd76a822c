#include "edge/recent_writes.h"

namespace kv::edge {

RecentWrites::RecentWrites(absl::Duration keep_for, size_t max_entries, Clock& clock)
    : keep_for_(keep_for), max_entries_(max_entries), clock_(clock) {}

void RecentWrites::Record(absl::string_view cache_key, const Version& version, bool deleted) {
  const absl::Duration now = clock_.MonotonicNow();
  absl::MutexLock lock(&mu_);
  Item& item = items_[cache_key];
  // Concurrent writes of one key may be acknowledged out of order: keep the
  // newest version.
  if (item.write.version < version) item.write = Write{version, deleted};
  item.recording = ++recordings_;
  order_.push_back(Recording{std::string(cache_key), item.recording, now});
  Prune(now);
}

std::optional<RecentWrites::Write> RecentWrites::Lookup(absl::string_view cache_key) {
  const absl::Duration now = clock_.MonotonicNow();
  absl::MutexLock lock(&mu_);
  Prune(now);
  auto it = items_.find(cache_key);
  if (it == items_.end()) return std::nullopt;
  return it->second.write;
}

size_t RecentWrites::size() const {
  absl::MutexLock lock(&mu_);
  return items_.size();
}

void RecentWrites::Prune(absl::Duration now) {
  while (!order_.empty() &&
         (now - order_.front().at > keep_for_ || items_.size() > max_entries_ ||
          order_.size() > 2 * max_entries_)) {
    auto it = items_.find(order_.front().cache_key);
    // Only the key's latest recording removes it.
    if (it != items_.end() && it->second.recording == order_.front().number) items_.erase(it);
    order_.pop_front();
  }
}

bool RecentWrites::Satisfies(bool found, const Version& version, const Write& write) {
  if (!(version < write.version)) return true;
  // A central that holds neither the put nor the delete of a key that never
  // existed there answers "not found" without a version: right for a delete.
  return !found && version.IsZero() && write.deleted;
}

}  // namespace kv::edge
