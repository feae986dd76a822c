#ifndef KV_CENTRAL_COMMIT_QUEUE_H_
#define KV_CENTRAL_COMMIT_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
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

class CommitQueue;

// Batches the CommitAsync calls that the creating thread makes while the
// batch is open: a call that finds its queue idle enqueues its request
// without leading, and Flush() leads (one group, on this thread) every queue
// left with requests and no leader. For completion-queue pollers: the
// requests read in one poll share one WAL sync instead of one sync each,
// without handing them to another thread. A request enqueued meanwhile is
// never stranded: any other writer that finds the queue idle leads and
// commits it, and Flush leads whatever is left. One open batch per thread
// (they do not nest); Flush before the thread blocks (the destructor
// flushes too). Not thread-safe: one thread.
class CommitBatch {
 public:
  CommitBatch();
  ~CommitBatch();
  CommitBatch(const CommitBatch&) = delete;
  CommitBatch& operator=(const CommitBatch&) = delete;

  // Leads the deferred requests now (may block for one group's commit).
  void Flush();
  // Requests deferred since the last Flush.
  size_t deferred() const { return deferred_; }

 private:
  friend class CommitQueue;
  // Queues with requests deferred by this batch (usually one).
  std::vector<CommitQueue*> queues_;
  size_t deferred_ = 0;
};

// Group commit, LevelDB style (leveldb DBImpl::Write), with an asynchronous
// entry point. Writers enqueue; one thread at a time is the leader: it takes
// a bounded run of queued writers, gives each mutation its HLC version and
// its change-log sequence, builds ONE WriteBatch (data rows + change-log
// entries + the "max_version" meta key), writes it (synced when `sync`),
// runs the `on_commit` hooks, publishes the new last sequence to the
// ChangeLogImpl (listeners run on the leader thread), and completes the
// group: blocked Commit callers are woken, CommitAsync callbacks are run by
// the leader itself. So:
//  - versions increase with sequence order, and sequences are contiguous
//    and follow commit order;
//  - concurrent writers share one WAL sync;
//  - when the write fails, every writer of the group gets the error and the
//    sequences are reused by the next group (no hole in the log);
//  - an error of `prepare` rejects that request alone;
//  - exclusive requests commit in a group of their own;
//  - the next group starts only after the previous one's `on_commit` hooks
//    and listeners have run.
//
// Who leads: a caller that finds no leader leads at once, on its own thread
// (so an idle queue costs no thread hand-off), until its own request is
// complete; a CommitAsync caller with an open CommitBatch defers that to
// the batch's Flush, which leads one group. Work left then goes to the next
// blocked Commit caller in line, or else to the queue's committer thread,
// which leads until the queue is empty. So a busy queue costs one wake-up
// per group, not one per writer, and no caller leads on behalf of others
// for longer than its own group.
//
// Thread-safe. Commit blocks until the caller's group is durable (and its
// write quorum reached); CommitAsync may block as long as one group takes
// when it finds the queue idle (the caller leads), never on the quorum.
// `db`, `log`, `hlc` and `clock` must outlive the queue; no call may be in
// flight when it is destroyed.
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
    // Run by the leader right after on_commit, with the change-log
    // sequences this request's logged entries took (not run when none
    // was logged). Optional.
    std::function<void(uint64_t first_sequence, uint64_t last_sequence)> on_logged;

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
  // The same for CommitAsync: must not block; calls `done` exactly once, on
  // any thread, now or later, with what DurabilityHook would return.
  using AsyncDurabilityHook = std::function<void(
      uint64_t last_sequence, absl::AnyInvocable<void(absl::Status) &&> done)>;
  // The result of CommitAsync: the versions of the request's entries.
  using Done = absl::AnyInvocable<void(absl::StatusOr<std::vector<Version>>) &&>;

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

  // Sequences continue after log.LastSequence(). Starts the committer thread.
  CommitQueue(const Options& options, RocksDb& db, ChangeLogImpl& log, Hlc& hlc,
              Clock& clock);
  // Joins the committer thread.
  ~CommitQueue();

  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Commits `request` with others and returns the versions of its entries,
  // in order. Errors: whatever `prepare` returned, or the RocksDB write error.
  // The leader works on `request` in place (prepare may read and mark its
  // entries); it is left in an unspecified state.
  absl::StatusOr<std::vector<Version>> Commit(Request&& request)
      ABSL_LOCKS_EXCLUDED(mu_, leader_mu_);

  // Commits `request` with others and calls `done` with the versions of its
  // entries once its group is durable (and, with await_replicas, once the
  // async durability hook says so). Same errors as Commit. `done` runs on
  // the leader's thread (possibly this one, before CommitAsync returns) or
  // the hook's: it must not block and must not call Commit (CommitAsync is
  // fine).
  void CommitAsync(Request request, Done done) ABSL_LOCKS_EXCLUDED(mu_, leader_mu_);

  // Install the durability hooks (before writes start; not thread-safe
  // against Commit). Without an async hook, CommitAsync calls the blocking
  // one on the leader's thread.
  void SetDurabilityHook(DurabilityHook hook) { durability_hook_ = std::move(hook); }
  void SetAsyncDurabilityHook(AsyncDurabilityHook hook) {
    async_durability_hook_ = std::move(hook);
  }
  // How many replicated versions were too far in the future to observe.
  uint64_t future_versions() const { return future_versions_.load(); }

 private:
  struct Writer {
    explicit Writer(Request* r) : request(r) {}
    Request* request;
    // Set for CommitAsync writers (which own their request and are deleted
    // once completed); Commit writers live on their caller's stack.
    std::optional<Request> owned;
    Done async_done;
    bool done = false;
    // Commit writers: told to lead (the previous leader's request is done).
    bool lead = false;
    absl::Status status;
    std::vector<Version> versions;
    uint64_t last_sequence = 0;
    // The sequences of this writer's own logged entries (none: 0, 0).
    uint64_t first_logged = 0;
    uint64_t last_logged = 0;
    absl::CondVar cv;
  };

  friend class CommitBatch;

  // Leads groups until `own` (null: the committer thread) is complete, or
  // after one group when `one_group`, then hands what is left on (see the
  // class comment).
  void Lead(Writer* own, bool one_group = false) ABSL_LOCKS_EXCLUDED(mu_, leader_mu_);
  // CommitBatch::Flush: leads one group when requests wait and no one leads.
  void LeadDeferred() ABSL_LOCKS_EXCLUDED(mu_, leader_mu_);
  // Commits `group`, runs its hooks and listeners, pops it, wakes its Commit
  // writers and runs its CommitAsync callbacks. Returns whether `own` was
  // in it.
  bool LeadGroup(const std::vector<Writer*>& group, const Writer* own)
      ABSL_LOCKS_EXCLUDED(mu_, leader_mu_);
  // Completes a CommitAsync writer (its durability hook, then `done`) and
  // deletes it.
  void CompleteAsync(Writer* writer) ABSL_LOCKS_EXCLUDED(mu_, leader_mu_);
  void CommitterLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Takes the run of writers at the front that one group commits.
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
  // Some thread leads (or has been told to).
  bool leader_active_ ABSL_GUARDED_BY(mu_) = false;
  // The committer thread is told to lead / to exit.
  bool committer_lead_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar committer_cv_;

  // Held by the leader while it commits its group (never contended: one
  // leader at a time); guards the leader's state.
  absl::Mutex leader_mu_;
  uint64_t next_sequence_ ABSL_GUARDED_BY(leader_mu_);
  uint64_t last_written_ ABSL_GUARDED_BY(leader_mu_);

  DurabilityHook durability_hook_;
  AsyncDurabilityHook async_durability_hook_;
  std::atomic<uint64_t> future_versions_{0};
  std::thread committer_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_COMMIT_QUEUE_H_
