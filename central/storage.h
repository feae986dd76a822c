#ifndef KV_CENTRAL_STORAGE_H_
#define KV_CENTRAL_STORAGE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "central/change_log.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/record.h"
#include "common/version.h"

namespace kv::central {

class ReplicaStore;


struct StorageOptions {
  // Where RocksDB lives; created when missing. Required.
  std::string data_dir;
  // This central's id, part of every version it issues. Default: 1.
  uint32_t node_id = 1;
  // Workers KV limits (namespaces per account, title length).
  Limits limits;
  // Values (encoded records) of at least this many bytes go to RocksDB blob
  // files instead of the LSM. Default: 4 KiB.
  size_t min_blob_bytes = 4096;
  // Values up to this size ride along in change-log entries so edges can
  // refresh hot keys in place. Default: 1 KiB.
  size_t inline_value_bytes = 1024;
  // Change-log entries older than this are trimmed. Default: 1 h.
  absl::Duration log_retention = absl::Hours(1);
  // Tombstones older than this are purged by compaction. Default: 24 h.
  absl::Duration tombstone_grace = absl::Hours(24);
  // Sync the WAL before a write returns. Default: true (durability);
  // false only for benchmarks that say so.
  bool sync_writes = true;
  // WAL files are zero-filled this far ahead of their data so that a sync
  // overwrites instead of appending (central/prefilled_wal_file_system.h).
  // 0: RocksDB's own WAL files; otherwise 4 KiB to 64 MiB. Default: 1 MiB.
  size_t wal_prefill_bytes = size_t{1} << 20;
  // Buckets of the records' hash memtable; 0: a skiplist (RocksDbOptions).
  // At most 4,194,304. Default: 262,144.
  size_t records_memtable_buckets = size_t{1} << 18;
  // Replicated versions further ahead of the wall clock than this are stored
  // but not observed by the HLC. Default: 500 ms.
  absl::Duration max_clock_offset = absl::Milliseconds(500);
};

// A namespace as stored.
struct NamespaceInfo {
  std::string id;  // 32 lowercase hex characters
  std::string account_id;
  std::string title;
  Version version;
};

// A namespace change (create, rename or delete) as the client asked it.
struct NamespaceOp {
  enum class Kind { kCreate, kRename, kDelete };
  Kind kind = Kind::kCreate;
  std::string account_id;
  std::string namespace_id;  // rename, delete
  std::string title;         // create, rename
};

// Decides where namespace changes are made (DESIGN §4.2: one coordinator).
class NamespaceCoordinator {
 public:
  virtual ~NamespaceCoordinator() = default;
  // nullopt: make the change here. Otherwise the result of the change made
  // by the coordinator (already applied here too), or why it could not be.
  virtual std::optional<absl::StatusOr<NamespaceInfo>> Forward(const NamespaceOp& op) = 0;
};

// One record to write; the expiration is already resolved to absolute Unix
// seconds (0 = none) and every field already validated.
struct PutOp {
  std::string key;
  std::string value;
  std::optional<std::string> metadata;
  int64_t expiration = 0;
};

// The result of an asynchronous write: its version (that of the last
// mutation for many), or the error the synchronous call would return.
using WriteDone = absl::AnyInvocable<void(absl::StatusOr<Version>) &&>;
// Waits for a write quorum without blocking: calls `done` once, on any
// thread, now or later (CommitQueue::AsyncDurabilityHook).
using AsyncDurabilityHook =
    std::function<void(uint64_t last_sequence, absl::AnyInvocable<void(absl::Status) &&> done)>;

struct ListedRecord {
  std::string key;
  int64_t expiration = 0;
  std::optional<std::string> metadata;
};

struct ListPage {
  std::vector<ListedRecord> keys;
  bool complete = true;
  // Opaque (base64url of the last key returned); empty exactly when complete.
  std::string cursor;
};

// The storage engine of a central (DESIGN §3): one RocksDB with column
// families for records, the change log, namespaces and node metadata.
//
// Guarantees:
//  - every mutation and its change-log entry are written in one WriteBatch,
//    and a mutating call returns only after the WAL is synced (group commit:
//    concurrent writers share one sync);
//  - change-log sequence numbers are contiguous and follow commit order;
//  - expired records are invisible to reads at once and removed by a
//    compaction filter; tombstones are removed after tombstone_grace;
//  - list cursors encode a position, so pages stay consistent under
//    concurrent writes (no key twice, order kept);
//  - namespace titles are unique per account and the per-account limit holds.
// Thread-safe. Calls block on disk I/O.
class Storage {
 public:
  // INVALID_ARGUMENT for bad options; the RocksDB error otherwise.
  static absl::StatusOr<std::unique_ptr<Storage>> Open(const StorageOptions& options,
                                                       Clock& clock);
  virtual ~Storage() = default;

  // --- Namespaces. NOT_FOUND (namespace not found) also when the namespace
  // belongs to another account.
  // INVALID_ARGUMENT for a duplicate title (HTTP 400, code 10014);
  // RESOURCE_EXHAUSTED when the account has max_namespaces_per_account.
  virtual absl::StatusOr<NamespaceInfo> CreateNamespace(absl::string_view account_id,
                                                        absl::string_view title) = 0;
  // All of an account's namespaces, ordered by title.
  virtual absl::StatusOr<std::vector<NamespaceInfo>> ListNamespaces(
      absl::string_view account_id) = 0;
  virtual absl::StatusOr<NamespaceInfo> GetNamespace(absl::string_view account_id,
                                                     absl::string_view namespace_id) = 0;
  virtual absl::StatusOr<NamespaceInfo> RenameNamespace(absl::string_view account_id,
                                                        absl::string_view namespace_id,
                                                        absl::string_view title) = 0;
  // Removes the namespace and every key in it.
  virtual absl::Status DeleteNamespace(absl::string_view account_id,
                                       absl::string_view namespace_id) = 0;

  // --- Records. The caller has checked the namespace belongs to the
  // account (GetNamespace); these check only that it exists.
  // Returns the version of the write.
  virtual absl::StatusOr<Version> Put(absl::string_view namespace_id, PutOp op) = 0;
  // All ops in one WriteBatch (atomic), one version each.
  virtual absl::StatusOr<Version> PutMany(absl::string_view namespace_id,
                                          std::vector<PutOp> ops) = 0;
  // Writes a tombstone; deleting a missing key succeeds.
  virtual absl::StatusOr<Version> Delete(absl::string_view namespace_id,
                                         absl::string_view key) = 0;
  virtual absl::StatusOr<Version> DeleteMany(absl::string_view namespace_id,
                                             const std::vector<std::string>& keys) = 0;
  // PutMany and DeleteMany without blocking on the commit: `done` is called
  // exactly once with what they would return, on the thread that commits
  // the group (maybe this one, before returning: a caller that finds the
  // commit queue idle commits at once) or the one that sees the write
  // quorum. `done` must not block. The write gate and the namespace are
  // checked before anything is queued.
  virtual void PutManyAsync(absl::string_view namespace_id, std::vector<PutOp> ops,
                            WriteDone done) = 0;
  virtual void DeleteManyAsync(absl::string_view namespace_id, std::vector<std::string> keys,
                               WriteDone done) = 0;
  // The live record, or nullopt when missing, deleted or expired.
  virtual absl::StatusOr<std::optional<Record>> Get(absl::string_view namespace_id,
                                                    absl::string_view key) = 0;
  // One result per key, in order.
  // When `dead_versions` is given it gets one Version per key: for a key
  // with no live record, the version of its tombstone or expired record
  // (zero when the key has no record at all); zero for live keys.
  virtual absl::StatusOr<std::vector<std::optional<Record>>> GetMany(
      absl::string_view namespace_id, const std::vector<std::string>& keys,
      std::vector<Version>* dead_versions = nullptr) = 0;
  // The version of each key's live record (nullopt when missing, deleted or
  // expired), in order, from the key index: no value is read.
  virtual absl::StatusOr<std::vector<std::optional<Version>>> LiveVersions(
      absl::string_view namespace_id, const std::vector<std::string>& keys) = 0;
  // Live keys starting with `prefix` after the cursor position, in
  // lexicographic byte order, at most `limit` (>= 1). INVALID_ARGUMENT for a
  // malformed cursor.
  virtual absl::StatusOr<ListPage> List(absl::string_view namespace_id,
                                        absl::string_view prefix, uint32_t limit,
                                        absl::string_view cursor) = 0;

  // The change log every mutation above is appended to.
  virtual ChangeLog& change_log() = 0;

  // Replication: applying peers' mutations, digests (replica_store.h).
  virtual ReplicaStore& replica() = 0;
  // Installs the hook every local mutation waits on after its commit (the
  // write quorum); before serving.
  virtual void SetDurabilityHook(std::function<absl::Status(uint64_t last_sequence)> hook) = 0;
  // The same for the asynchronous writes: must not block, and calls `done`
  // once (any thread) with what the blocking hook would return. Without it
  // the asynchronous writes call the blocking hook on the committing thread.
  virtual void SetAsyncDurabilityHook(AsyncDurabilityHook hook) = 0;
  // Installs a check every read passes first (Get, GetMany, List,
  // ListNamespaces, and GetNamespace before it answers NOT_FOUND): a central
  // that cannot vouch for its completeness refuses reads.
  virtual void SetReadGate(std::function<absl::Status()> gate) = 0;
  // Installs a check every client write (records and namespaces) passes
  // before it is committed: a central whose clock runs ahead of its peers'
  // refuses them.
  virtual void SetWriteGate(std::function<absl::Status()> gate) = 0;
  // Routes namespace changes through `coordinator` (may be null: local).
  virtual void SetNamespaceCoordinator(NamespaceCoordinator* coordinator) = 0;
  // Tombstones are purged (past the grace) only when their version is
  // before `horizon`: the time before which every central holds every
  // write. InfiniteFuture (the default, a single central) lets the grace
  // alone decide; InfinitePast purges none.
  virtual void SetTombstonePurgeHorizon(absl::Time horizon) = 0;
  // Replicated versions too far in the future for the HLC to observe.
  virtual uint64_t FutureVersions() const = 0;

  // Flushes memtables (tests, clean shutdown). Not needed for durability.
  virtual absl::Status Flush() = 0;
  // Runs a full manual compaction (tests: expiry and tombstone purge).
  virtual absl::Status CompactForTesting() = 0;
  // The storage engine's figures for metrics, read now: counters (name
  // ending in _total) and gauges, e.g. {"wal_synced_total", 12}.
  virtual std::vector<std::pair<std::string, double>> EngineFigures() = 0;
  // Number of WAL syncs RocksDB has done (rocksdb.wal.synced statistic).
  virtual uint64_t WalSyncsForTesting() = 0;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_STORAGE_H_
