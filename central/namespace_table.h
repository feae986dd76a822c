#ifndef KV_CENTRAL_NAMESPACE_TABLE_H_
#define KV_CENTRAL_NAMESPACE_TABLE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "central/commit_queue.h"
#include "proto/storage.pb.h"
#include "central/rocks_db.h"
#include "central/storage.h"
#include "common/clock.h"
#include "common/limits.h"

namespace kv::central {

// A central's namespaces: the "namespaces" column family ("n/<id>" ->
// serialized StoredNamespace; "t/<account>\0<title>" -> id, the uniqueness
// index) and an in-memory copy loaded on open that answers every read.
//
// Create, rename and delete are serialized by one mutex held across the
// check and the commit, and go through the CommitQueue as exclusive
// requests, each with one change-log entry (NAMESPACE_CREATE / _RENAME /
// _DELETE; namespace_id set, `value` = the StoredNamespace, whose version is
// the entry's, value_included false). A deleted namespace keeps its row as a
// tombstone (deleted = true) so replication cannot bring it back. The in-memory table changes in the
// commit's on_commit hook, before any later group is prepared, so a record
// write committed after a namespace delete always sees it gone.
// Deleting a namespace removes all its records (DeleteRange over its id
// prefix in the records column family) in the same batch.
//
// Thread-safe. Mutations block on the commit; reads never do I/O. `db`,
// `queue` and `clock` must outlive the table.
class NamespaceTable {
 public:
  // Loads every namespace. DATA_LOSS for an undecodable one.
  static absl::StatusOr<std::unique_ptr<NamespaceTable>> Open(
      RocksDb& db, CommitQueue& queue, const Limits& limits, Clock& clock);

  // NOT_FOUND "namespace not found" (HTTP 404, code 10013).
  static absl::Status NotFoundError();

  // See Storage. INVALID_ARGUMENT for an account id with a NUL byte.
  absl::StatusOr<NamespaceInfo> Create(absl::string_view account_id,
                                       absl::string_view title)
      ABSL_LOCKS_EXCLUDED(ops_mu_, mu_);
  std::vector<NamespaceInfo> List(absl::string_view account_id) const
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<NamespaceInfo> Get(absl::string_view account_id,
                                    absl::string_view namespace_id) const
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<NamespaceInfo> Rename(absl::string_view account_id,
                                       absl::string_view namespace_id,
                                       absl::string_view title)
      ABSL_LOCKS_EXCLUDED(ops_mu_, mu_);
  absl::Status Delete(absl::string_view account_id,
                      absl::string_view namespace_id)
      ABSL_LOCKS_EXCLUDED(ops_mu_, mu_);

  // Whether the namespace exists (any account).
  bool Exists(absl::string_view namespace_id) const ABSL_LOCKS_EXCLUDED(mu_);

  // --- Replication (run by the CommitQueue leader, in exclusive requests).
  // Whether a replicated namespace entry (NAMESPACE_CREATE/_RENAME/_DELETE
  // with the StoredNamespace in `value`) at `version` is newer than what this
  // table holds for its id; if so adds its rows to `batch` (a delete also
  // removes the namespace's records) and returns true. A title already held
  // by another namespace of the account is left to that one in the title
  // index (the coordinator of issue 9 prevents such duplicates).
  bool PrepareReplicated(const kv::storage::v1::ChangeEntry& entry, const Version& version,
                         rocksdb::WriteBatch& batch) ABSL_LOCKS_EXCLUDED(mu_);
  // Applies to memory an entry PrepareReplicated accepted, once durable.
  void CommitReplicated(const kv::storage::v1::ChangeEntry& entry, const Version& version)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the namespace was deleted at or after `version` (a replicated
  // record older than the delete is not applied).
  bool DeletedSince(absl::string_view namespace_id, const Version& version) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Every namespace row, deleted ones included (anti-entropy).
  std::vector<kv::storage::v1::StoredNamespace> AllRows() const ABSL_LOCKS_EXCLUDED(mu_);

  // The records column family range [begin, end) of a namespace's keys.
  static std::string RecordsBegin(absl::string_view namespace_id);
  static std::string RecordsEnd(absl::string_view namespace_id);

 private:
  struct Entry {
    NamespaceInfo info;
    int64_t created_ms = 0;
  };

  NamespaceTable(RocksDb& db, CommitQueue& queue, const Limits& limits,
                 Clock& clock);

  // The namespace if it exists and belongs to the account, else NOT_FOUND.
  absl::StatusOr<Entry> Find(absl::string_view account_id,
                             absl::string_view namespace_id) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The id holding `title` in the account, or empty.
  std::string FindTitle(absl::string_view account_id,
                        absl::string_view title) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void Insert(const NamespaceInfo& info, int64_t created_ms)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Erase(absl::string_view namespace_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  RocksDb& db_;
  CommitQueue& queue_;
  const Limits limits_;
  Clock& clock_;

  // Serializes create, rename and delete, check through commit.
  absl::Mutex ops_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> by_id_ ABSL_GUARDED_BY(mu_);
  // Deleted namespaces: id -> the row (deleted = true, the delete's version).
  absl::flat_hash_map<std::string, kv::storage::v1::StoredNamespace> deleted_
      ABSL_GUARDED_BY(mu_);
  // account -> title -> id, ordered by title.
  absl::flat_hash_map<std::string, std::map<std::string, std::string>>
      by_account_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::central

#endif  // KV_CENTRAL_NAMESPACE_TABLE_H_
