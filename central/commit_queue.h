#ifndef KV_CENTRAL_COMMIT_QUEUE_H_
#define KV_CENTRAL_COMMIT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "central/change_log_impl.h"
#include "central/rocks_db.h"
#include "common/clock.h"
#include "common/hlc.h"
#include "common/version.h"
#include "proto/storage.pb.h"
#include "rocksdb/write_batch.h"

namespace kv::central {

// Group commit, LevelDB style (leveldb DBImpl::Write). Writers enqueue; the
// writer at the front becomes the leader, takes a bounded run of queued
// writers, gives each mutation its HLC version and its change-log sequence,
// builds ONE WriteBatch (data rows + change-log entries + the "max_version"
// meta key), writes it (synced when `sync`), publishes the new last sequence
// to the ChangeLogImpl (listeners run on the leader thread), and wakes the
// group. So:
//  - versions increase with sequence order, and sequences are contiguous
//    and follow commit order;
//  - concurrent writers share one WAL sync;
//  - when the write fails, every writer of the group gets the error and the
//    sequences are reused by the next group (no hole in the log);
//  - the next group starts only after the previous one's `on_commit` hooks
//    and listeners have run.
//
// Thread-safe. Commit blocks until the caller's group is durable.
// `db`, `log`, `hlc` and `clock` must outlive the queue.
class CommitQueue {
 public:
  struct Request {
    // One change-log entry per mutation, without version, commit_time_ms and
    // apply_time_ms: the leader fills them. At least one.
    std::vector<kv::storage::v1::ChangeEntry> entries;
    // Approximate bytes written, to bound group size.
    size_t bytes = 0;
    // Commit in a group of its own (namespace changes: no mutation of a
    // later group can be prepared before `on_commit` has run).
    bool exclusive = false;
    // Run by the leader with the version of each entry: checks what must
    // hold at commit time and adds the data rows to `batch`. An error
    // rejects this request alone (nothing of it is written). Required.
    std::function<absl::Status(absl::Span<const Version> versions,
                               rocksdb::WriteBatch& batch)>
        prepare;
    // Run by the leader once the batch is durable, before any later group
    // is prepared. Optional.
    std::function<void(absl::Span<const Version> versions)> on_commit;

    // Replicated mutations: every entry already carries its version (and
    // commit times), which the leader keeps instead of issuing new ones;
    // the HLC observes them (those within `max_clock_offset` only, so a
    // peer's bad clock cannot drag this node's versions into the future).
    // `prepare` sets skip[i] for entries it does not apply (an older
    // version): they take no sequence and are not logged.
    bool versions_given = false;
    std::vector<bool> skip;
    // Wait for the durability hook (write quorum) before returning. Local
    // client writes do; replicated applies do not.
    bool await_replicas = true;
  };

  // Called by Commit after a successful local commit of a request with
  // await_replicas, with the last sequence of the caller's group; its error
  // is the caller's result (the write stays: it is repaired later).
  using DurabilityHook = std::function<absl::Status(uint64_t last_sequence)>;

  struct Options {
    // Sync the WAL with every group. Default: true.
    bool sync = true;
    // Bounds of one group (the first writer is always taken whole).
    // Defaults: 16 MiB, 20,000 entries.
    size_t max_group_bytes = size_t{16} << 20;
    size_t max_group_entries = 20000;
    // When set, called before each group's write; a non-OK status fails the
    // group as a RocksDB write error would (RocksDB itself refuses further
    // writes after a failed one, so tests of the recovery path use this).
    std::function<absl::Status()> write_error_for_testing;
    // Versions given by replication further ahead of the wall clock than
    // this are stored but not observed by the HLC. Default: 500 ms.
    absl::Duration max_clock_offset = absl::Milliseconds(500);
  };

  // Sequences continue after log.LastSequence().
  CommitQueue(const Options& options, RocksDb& db, ChangeLogImpl& log, Hlc& hlc,
              Clock& clock);

  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Commits `request` with others and returns the versions of its entries,
  // in order. Errors: whatever `prepare` returned, or the RocksDB write error.
  // The leader works on `request` in place (prepare may read and mark its
  // entries); it is left in an unspecified state.
  absl::StatusOr<std::vector<Version>> Commit(Request&& request)
      ABSL_LOCKS_EXCLUDED(mu_, leader_mu_);

  // Installs the durability hook (before writes start; not thread-safe
  // against Commit).
  void SetDurabilityHook(DurabilityHook hook) { durability_hook_ = std::move(hook); }
  // How many replicated versions were too far in the future to observe.
  uint64_t future_versions() const { return future_versions_.load(); }

 private:
  struct Writer {
    explicit Writer(Request* r) : request(r) {}
    Request* request;
    bool done = false;
    absl::Status status;
    std::vector<Version> versions;
    uint64_t last_sequence = 0;
    absl::CondVar cv;
  };

  // Commits `group` as its leader (the front writer), runs its hooks and
  // listeners, marks every writer done and hands leadership on.
  void LeadGroup(const std::vector<Writer*>& group) ABSL_LOCKS_EXCLUDED(mu_, leader_mu_);
  // Takes the run of writers that `leader` (the front) commits.
  std::vector<Writer*> TakeGroup() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Prepares and writes `group`, filling each writer's result. Returns the
  // new last sequence to publish, or nullopt when nothing was written.
  std::optional<uint64_t> CommitGroup(const std::vector<Writer*>& group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(leader_mu_);

  const Options options_;
  RocksDb& db_;
  ChangeLogImpl& log_;
  Hlc& hlc_;
  Clock& clock_;

  absl::Mutex mu_;
  std::deque<Writer*> writers_ ABSL_GUARDED_BY(mu_);

  // Held by the leader while it commits its group (never contended: one
  // leader at a time); guards the leader's state.
  absl::Mutex leader_mu_;
  uint64_t next_sequence_ ABSL_GUARDED_BY(leader_mu_);
  uint64_t last_written_ ABSL_GUARDED_BY(leader_mu_);

  DurabilityHook durability_hook_;
  std::atomic<uint64_t> future_versions_{0};
};

}  // namespace kv::central

#endif  // KV_CENTRAL_COMMIT_QUEUE_H_
