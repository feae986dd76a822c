#ifndef KV_CENTRAL_RECORD_STORE_H_
#define KV_CENTRAL_RECORD_STORE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "central/commit_queue.h"
#include "central/namespace_table.h"
#include "central/rocks_db.h"
#include "central/storage.h"
#include "common/clock.h"
#include "common/record.h"
#include "common/record_codec.h"
#include "common/version.h"

namespace kv::central {

struct RecordStoreOptions {
  // Values up to this size ride along in change-log entries. Default: 1 KiB.
  size_t inline_value_bytes = 1024;
  // A list page stops (with a cursor, possibly holding fewer than `limit`
  // keys) after skipping this many tombstones and expired records, so one
  // call's work is bounded. Default: 10,000.
  size_t max_dead_per_page = 10000;
};

// The records of every namespace in the "records" column family: key =
// 32-character namespace id + user key bytes (the fixed-length prefix keeps
// user keys in byte order), value = EncodeRecord(record). Deletes write
// tombstones (replication needs them); reads skip tombstones and records
// expired at clock.TimeNow(). Every mutation goes through the CommitQueue,
// which also checks at commit time that the namespace still exists.
//
// The "key_index" column family mirrors "records" without the values (same
// key, EncodeRecordHead: version, expiration, tombstone, metadata), written
// in the same WriteBatch by AddPut/AddDeleteRange, so at any snapshot both
// hold the same keys and versions. List, digests and the replicas' version
// checks read the index: they never read a value, which for a large one
// means a blob file read (docs/design-notes.md, Storage).
//
// Thread-safe. Calls block on disk I/O (and mutations on the commit). The
// referenced objects must outlive the store.
class RecordStore {
 public:
  RecordStore(const RecordStoreOptions& options, RocksDb& db,
              CommitQueue& queue, const NamespaceTable& namespaces,
              Clock& clock);

  // See Storage. NOT_FOUND (HTTP 404, code 10013) when the namespace does
  // not exist; DATA_LOSS for an undecodable stored record. PutMany and
  // DeleteMany return the version of their last mutation (a zero Version
  // for an empty list).
  absl::StatusOr<Version> PutMany(absl::string_view namespace_id,
                                  std::vector<PutOp> ops);
  absl::StatusOr<Version> DeleteMany(absl::string_view namespace_id,
                                     const std::vector<std::string>& keys);
  // The same through CommitQueue::CommitAsync: `done` gets the result on
  // the committing thread (see there; it must not block).
  void PutManyAsync(absl::string_view namespace_id, std::vector<PutOp> ops, WriteDone done);
  void DeleteManyAsync(absl::string_view namespace_id, std::vector<std::string> keys,
                       WriteDone done);
  absl::StatusOr<std::optional<Record>> Get(absl::string_view namespace_id,
                                            absl::string_view key);
  absl::StatusOr<std::vector<std::optional<Record>>> GetMany(
      absl::string_view namespace_id, const std::vector<std::string>& keys,
      std::vector<Version>* dead_versions = nullptr);
  absl::StatusOr<std::vector<std::optional<Version>>> LiveVersions(
      absl::string_view namespace_id, const std::vector<std::string>& keys);
  // INVALID_ARGUMENT "invalid cursor" for a cursor that is not base64url;
  // INVALID_ARGUMENT for limit 0.
  absl::StatusOr<ListPage> List(absl::string_view namespace_id,
                                absl::string_view prefix, uint32_t limit,
                                absl::string_view cursor);

  // The records column family key of (namespace, key).
  static std::string RecordKey(absl::string_view namespace_id,
                               absl::string_view key);
  // Adds the write of `record` at `record_key` to `batch`: the record and
  // its key index entry. Every write of a record goes through here.
  static void AddPut(RocksDb& db, rocksdb::WriteBatch& batch, const std::string& record_key,
                     const Record& record);
  // Adds the removal of every record in [begin, end), index included.
  static void AddDeleteRange(RocksDb& db, rocksdb::WriteBatch& batch, const std::string& begin,
                             const std::string& end);
  // Builds the key index from the records when the data dir predates it (or
  // a previous build did not finish); a no-op once built. Call on open,
  // before anything writes. Reads every record once.
  static absl::Status EnsureKeyIndex(RocksDb& db);

 private:
  // The commit requests of a put and a delete (the namespace is checked
  // again at commit time).
  CommitQueue::Request PutRequest(absl::string_view namespace_id,
                                  std::vector<PutOp> ops) const;
  CommitQueue::Request DeleteRequest(absl::string_view namespace_id,
                                     std::vector<std::string> keys) const;
  // Whether a record with `header` is live at `now` (not a tombstone, not
  // expired).
  static bool IsLive(const RecordHeader& header, absl::Time now);
  // The live record in `bytes` at `now`, nullopt when dead.
  static absl::StatusOr<std::optional<Record>> LiveRecord(
      absl::string_view bytes, absl::Time now);

  const RecordStoreOptions options_;
  RocksDb& db_;
  CommitQueue& queue_;
  const NamespaceTable& namespaces_;
  Clock& clock_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_RECORD_STORE_H_
