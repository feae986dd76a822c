#ifndef KV_CENTRAL_ROCKS_DB_H_
#define KV_CENTRAL_ROCKS_DB_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/iterator.h"
#include "rocksdb/statistics.h"
#include "rocksdb/write_batch.h"

namespace kv::central {

inline constexpr size_t kMinWalPrefillBytes = size_t{4} << 10;
inline constexpr size_t kMaxWalPrefillBytes = size_t{64} << 20;
inline constexpr size_t kMaxRecordsMemtableBuckets = size_t{1} << 22;

struct RocksDbOptions {
  // Where RocksDB lives; created when missing. Required.
  std::string data_dir;
  // Encoded records of at least this many bytes go to blob files.
  // Default: 4 KiB.
  size_t min_blob_bytes = 4096;
  // Shared LRU block cache of every column family. Default: 64 MiB.
  size_t block_cache_bytes = size_t{64} << 20;
  // WAL files are filled with zeros this far ahead of their data, so that
  // a sync overwrites instead of appending (prefilled_wal_file_system.h).
  // 0: RocksDB's own WAL files; otherwise between kMinWalPrefillBytes and
  // kMaxWalPrefillBytes (Open refuses others). Default: 1 MiB.
  size_t wal_prefill_bytes = size_t{1} << 20;
  // The records' memtable: a hash table of this many buckets (RocksDB's
  // hash linked list), or 0 for RocksDB's default skiplist. Records are
  // only read by key, so a put needs no ordered insert there (the skiplist
  // search of a random key was ~10 % of a central's CPU at 16 writers);
  // the flush sorts the memtable instead, on RocksDB's flush thread
  // (docs/write-path.md, "Round 5"). At most kMaxRecordsMemtableBuckets.
  // Default: 262,144 (2 MiB of each 64 MiB memtable).
  size_t records_memtable_buckets = size_t{1} << 18;
  // Compaction filter of the records column family (expiry, tombstone
  // purge); owned by the RocksDb, called on RocksDB's threads. May be null.
  std::unique_ptr<rocksdb::CompactionFilter> records_filter;
  // The same for the key index (it holds each record's header, so the same
  // rules apply). May be null.
  std::unique_ptr<rocksdb::CompactionFilter> key_index_filter;
};

// The one RocksDB of a central, opened with the column families "default",
// "records", "key_index", "changelog", "namespaces" and "meta" (and any
// other it finds, left untouched). The single place that converts rocksdb::Status to
// absl::Status: IOError, Busy, TimedOut, TryAgain and ShutdownInProgress are
// UNAVAILABLE; Corruption is DATA_LOSS; NotFound NOT_FOUND; InvalidArgument
// and NotSupported INVALID_ARGUMENT; anything else INTERNAL.
//
// Thread-safe (RocksDB is). The column family handles live as long as the
// RocksDb. Every call may block on disk I/O.
class RocksDb {
 public:
  // The RocksDB error when the DB cannot be opened (UNAVAILABLE when another
  // process holds its lock).
  static absl::StatusOr<std::unique_ptr<RocksDb>> Open(RocksDbOptions options);
  ~RocksDb();

  RocksDb(const RocksDb&) = delete;
  RocksDb& operator=(const RocksDb&) = delete;

  rocksdb::ColumnFamilyHandle* records() const { return records_; }
  // Every record without its value (RecordStore::AddPut), written in the
  // same batches as `records`: lists, digests and version checks read it
  // and never a value.
  rocksdb::ColumnFamilyHandle* key_index() const { return key_index_; }
  rocksdb::ColumnFamilyHandle* changelog() const { return changelog_; }
  rocksdb::ColumnFamilyHandle* namespaces() const { return namespaces_; }
  rocksdb::ColumnFamilyHandle* meta() const { return meta_; }

  // Writes `batch` atomically; with `sync` the WAL is synced first.
  absl::Status Write(rocksdb::WriteBatch& batch, bool sync);

  // The value, or nullopt when the key is absent.
  absl::StatusOr<std::optional<std::string>> Get(
      rocksdb::ColumnFamilyHandle* cf, absl::string_view key);
  // One result per key, in order, from one consistent view.
  std::vector<absl::StatusOr<std::optional<std::string>>> MultiGet(
      rocksdb::ColumnFamilyHandle* cf, const std::vector<std::string>& keys);

  // An iterator over `cf` at an implicit snapshot taken now, in key order
  // over the whole column family (total_order_seek is forced: the records'
  // hash memtable would otherwise iterate one key's "prefix" only). Check
  // IteratorStatus() once it is no longer Valid().
  std::unique_ptr<rocksdb::Iterator> NewIterator(
      rocksdb::ColumnFamilyHandle* cf, const rocksdb::ReadOptions& options);
  static absl::Status IteratorStatus(const rocksdb::Iterator& it);

  // Flushes the memtables of every column family and waits.
  absl::Status FlushAll();
  // Flushes, then compacts `cf` entirely down to the bottommost level, so the
  // compaction filter sees every record.
  absl::Status CompactAll(rocksdb::ColumnFamilyHandle* cf);

  // Ticker rocksdb.wal.synced.
  uint64_t WalSyncs() const;
  // Any statistics ticker (rocksdb::Tickers).
  uint64_t Ticker(uint32_t ticker) const;
  // An integer DB property of `cf` ("rocksdb.num-blob-files", ...), or
  // nullopt when RocksDB does not know it.
  std::optional<uint64_t> IntProperty(rocksdb::ColumnFamilyHandle* cf,
                                      absl::string_view name);

 private:
  RocksDb() = default;

  std::unique_ptr<rocksdb::Env> env_;  // null: the default Env
  std::unique_ptr<rocksdb::CompactionFilter> records_filter_;
  std::unique_ptr<rocksdb::CompactionFilter> key_index_filter_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; all opened CFs
  rocksdb::ColumnFamilyHandle* records_ = nullptr;
  rocksdb::ColumnFamilyHandle* key_index_ = nullptr;
  rocksdb::ColumnFamilyHandle* changelog_ = nullptr;
  rocksdb::ColumnFamilyHandle* namespaces_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_ROCKS_DB_H_
