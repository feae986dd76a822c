#ifndef KV_CENTRAL_CHANGE_LOG_H_
#define KV_CENTRAL_CHANGE_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/storage.pb.h"

namespace kv::central {

// One change-log entry with its local sequence number.
struct SequencedChange {
  uint64_t sequence = 0;
  kv::storage::v1::ChangeEntry entry;
};

// The reader side of a central's change log: every applied mutation in
// commit order under contiguous local sequence numbers starting at 1. Only
// entries whose WAL is synced are visible, so a crash cannot take back a
// sequence a reader has seen.
// Thread-safe.
class ChangeLog {
 public:
  virtual ~ChangeLog() = default;

  // Identifies this log: new when the data dir is created. Sequences of
  // different incarnations are unrelated.
  virtual const std::string& incarnation() const = 0;
  // The highest visible sequence (0 when empty).
  virtual uint64_t LastSequence() const = 0;
  // The lowest retained sequence (LastSequence()+1 when empty).
  virtual uint64_t FirstSequence() const = 0;

  // Entries with sequence >= from, at most max_entries (and roughly at most
  // max_bytes), in order. OUT_OF_RANGE when `from` has been trimmed
  // (from < FirstSequence()). Returns an empty vector when from >
  // LastSequence().
  virtual absl::StatusOr<std::vector<SequencedChange>> Read(uint64_t from,
                                                            size_t max_entries,
                                                            size_t max_bytes) = 0;

  // The first retained sequence whose entry was applied at or after
  // `apply_time_ms` (LastSequence()+1 when none), and whether the log
  // reaches back that far (its first retained entry was applied at or before
  // that time). Entries' apply times follow sequence order.
  struct TimePosition {
    uint64_t sequence = 0;
    bool covered = false;
  };
  virtual absl::StatusOr<TimePosition> FindAppliedAtOrAfter(int64_t apply_time_ms) = 0;

  // Blocks until LastSequence() >= sequence or `timeout` passes; returns
  // LastSequence().
  virtual uint64_t WaitFor(uint64_t sequence, absl::Duration timeout) = 0;

  // Calls `listener(last_sequence)` after every commit, from the committing
  // thread; it must not block. Returns an id for RemoveListener.
  virtual int AddListener(std::function<void(uint64_t)> listener) = 0;
  virtual void RemoveListener(int id) = 0;

  // Deletes entries applied before `cutoff` (apply_time_ms), always keeping
  // the last entry. Returns how many were removed.
  virtual absl::StatusOr<uint64_t> TrimAppliedBefore(absl::Time cutoff) = 0;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_CHANGE_LOG_H_
