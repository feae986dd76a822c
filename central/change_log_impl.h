#ifndef KV_CENTRAL_CHANGE_LOG_IMPL_H_
#define KV_CENTRAL_CHANGE_LOG_IMPL_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "central/change_log.h"
#include "central/rocks_db.h"

namespace kv::central {

// The change log kept in the "changelog" column family: key = big-endian u64
// sequence, value = serialized kv.storage.v1.ChangeEntry. Entries are
// written by the CommitQueue in the batch of their mutation; this class
// recovers the sequence range on open, makes committed entries visible
// (Publish), and serves readers.
//
// Invariants: entries FirstSequence()..LastSequence() are all present
// (trimming only moves FirstSequence up, never past LastSequence(), so the
// last entry is always kept once the log is non-empty); entries above
// LastSequence() may be in the DB (written, not yet published) but are never
// returned.
//
// Thread-safe. Read and TrimAppliedBefore do disk I/O; LastSequence and
// FirstSequence do not block. `db` must outlive the log.
class ChangeLogImpl final : public ChangeLog {
 public:
  // Reads (or, in a new data dir, creates) the incarnation id and recovers
  // the sequence range. DATA_LOSS for a malformed key.
  static absl::StatusOr<std::unique_ptr<ChangeLogImpl>> Open(RocksDb& db);

  // The changelog column family key of `sequence`.
  static std::string SequenceKey(uint64_t sequence);
  // nullopt when `key` is not 8 bytes.
  static std::optional<uint64_t> ParseSequenceKey(absl::string_view key);

  const std::string& incarnation() const override { return incarnation_; }
  uint64_t LastSequence() const override;
  uint64_t FirstSequence() const override;
  absl::StatusOr<std::vector<SequencedChange>> Read(uint64_t from,
                                                    size_t max_entries,
                                                    size_t max_bytes) override;
  absl::StatusOr<TimePosition> FindAppliedAtOrAfter(int64_t apply_time_ms) override;
  uint64_t WaitFor(uint64_t sequence, absl::Duration timeout) override
      ABSL_LOCKS_EXCLUDED(mu_);
  int AddListener(std::function<void(uint64_t)> listener) override
      ABSL_LOCKS_EXCLUDED(listeners_mu_);
  // Once it returns, the listener is not running and will not be called
  // again (unless called from the listener itself, which may still be
  // finishing).
  void RemoveListener(int id) override ABSL_LOCKS_EXCLUDED(listeners_mu_);
  absl::StatusOr<uint64_t> TrimAppliedBefore(absl::Time cutoff) override
      ABSL_LOCKS_EXCLUDED(trim_mu_);

  // Makes entries up to `last_sequence` visible, wakes WaitFor callers, then
  // calls the listeners on this thread without holding any lock.
  // REQUIRES: those entries are durable; calls are serialized (the commit
  // leader) with non-decreasing `last_sequence`.
  void Publish(uint64_t last_sequence) ABSL_LOCKS_EXCLUDED(mu_, listeners_mu_);

 private:
  using Listener = std::function<void(uint64_t)>;

  ChangeLogImpl(RocksDb& db, std::string incarnation, uint64_t first,
                uint64_t last);

  RocksDb& db_;
  const std::string incarnation_;

  // Written under mu_ (so WaitFor's condition is re-evaluated); read freely.
  std::atomic<uint64_t> last_sequence_;
  // Written under trim_mu_ (and at construction); read freely.
  std::atomic<uint64_t> first_sequence_;
  absl::Mutex mu_;
  absl::Mutex trim_mu_;

  absl::Mutex listeners_mu_;
  std::map<int, std::shared_ptr<const Listener>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
  int next_listener_id_ ABSL_GUARDED_BY(listeners_mu_) = 1;
  // Publish calls currently running listeners, and the thread doing so.
  int calls_in_flight_ ABSL_GUARDED_BY(listeners_mu_) = 0;
  std::thread::id calling_thread_ ABSL_GUARDED_BY(listeners_mu_);
};

}  // namespace kv::central

#endif  // KV_CENTRAL_CHANGE_LOG_IMPL_H_
