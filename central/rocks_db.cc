#include "central/rocks_db.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "central/prefilled_wal_file_system.h"
#include "common/logging.h"
#include "rocksdb/cache.h"
#include "rocksdb/file_system.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/options.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"

namespace kv::central {
namespace {

constexpr char kRecordsCf[] = "records";
constexpr char kKeyIndexCf[] = "key_index";
constexpr char kChangelogCf[] = "changelog";
constexpr char kNamespacesCf[] = "namespaces";
constexpr char kMetaCf[] = "meta";

// The one conversion from rocksdb::Status (STYLE §3).
absl::Status FromRocksStatus(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat("rocksdb: ", s.ToString());
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kInvalidArgument:
    case rocksdb::Status::kNotSupported:
      return absl::InvalidArgumentError(message);
    case rocksdb::Status::kIOError:
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kShutdownInProgress:
    case rocksdb::Status::kAborted:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

}  // namespace

absl::StatusOr<std::unique_ptr<RocksDb>> RocksDb::Open(RocksDbOptions options) {
  if (options.wal_prefill_bytes != 0 &&
      (options.wal_prefill_bytes < kMinWalPrefillBytes ||
       options.wal_prefill_bytes > kMaxWalPrefillBytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "wal_prefill_bytes must be 0 or between ", kMinWalPrefillBytes, " and ",
        kMaxWalPrefillBytes, ", got ", options.wal_prefill_bytes));
  }
  if (options.records_memtable_buckets > kMaxRecordsMemtableBuckets) {
    return absl::InvalidArgumentError(absl::StrCat(
        "records_memtable_buckets must be at most ", kMaxRecordsMemtableBuckets, ", got ",
        options.records_memtable_buckets));
  }
  if (options.data_dir.empty())
    return absl::InvalidArgumentError("data_dir is required");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "cannot create data dir ", options.data_dir, ": ", ec.message()));
  }

  std::unique_ptr<RocksDb> db(new RocksDb());
  db->records_filter_ = std::move(options.records_filter);
  db->key_index_filter_ = std::move(options.key_index_filter);
  db->statistics_ = rocksdb::CreateDBStatistics();

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.statistics = db->statistics_;
  db_options.keep_log_file_num = 10;
  if (options.wal_prefill_bytes > 0) {
    db->env_ = rocksdb::NewCompositeEnv(NewPrefilledWalFileSystem(
        rocksdb::FileSystem::Default(), options.wal_prefill_bytes));
    db_options.env = db->env_.get();
  }

  const std::shared_ptr<rocksdb::Cache> cache =
      rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = cache;
  rocksdb::ColumnFamilyOptions base_cf;
  base_cf.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(table_options));

  // Records: point lookups dominate, so whole-key bloom filters; large
  // values in blob files, garbage-collected as compaction rewrites them.
  rocksdb::BlockBasedTableOptions records_table = table_options;
  records_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions records_cf = base_cf;
  records_cf.table_factory.reset(
      rocksdb::NewBlockBasedTableFactory(records_table));
  records_cf.enable_blob_files = true;
  records_cf.min_blob_size = options.min_blob_bytes;
  records_cf.enable_blob_garbage_collection = true;
  records_cf.compaction_filter = db->records_filter_.get();
  if (options.records_memtable_buckets > 0) {
    // Read by key only, so the memtable may be a hash table keyed by the
    // whole key (the "prefix" is the key). Iterators must then seek in
    // total order (NewIterator does), and RocksDB's concurrent memtable
    // inserts, which the hash table does not support, are off: this
    // central's writes go through one CommitQueue, one group at a time.
    records_cf.prefix_extractor.reset(rocksdb::NewNoopTransform());
    records_cf.memtable_factory.reset(
        rocksdb::NewHashLinkListRepFactory(options.records_memtable_buckets));
    db_options.allow_concurrent_memtable_write = false;
  }
  // The key index: small entries (no values), point lookups (version
  // checks) and scans (lists, digests).
  rocksdb::ColumnFamilyOptions key_index_cf = base_cf;
  key_index_cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(records_table));
  key_index_cf.compaction_filter = db->key_index_filter_.get();
  // Every write looks its key up here first (a put's version check, a
  // replicated entry's last-writer-wins check), most often for a key the
  // memtable does not hold: a whole-key bloom filter answers those without
  // a skiplist search (docs/replication.md, "Costs per replicated write").
  key_index_cf.memtable_prefix_bloom_size_ratio = 0.02;
  key_index_cf.memtable_whole_key_filtering = true;

  // Open every column family the DB has (a newer version may have added
  // some), plus ours.
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName,
                                    kRecordsCf, kChangelogCf, kNamespacesCf,
                                    kMetaCf, kKeyIndexCf};
  if (std::filesystem::exists(
          std::filesystem::path(options.data_dir) / "CURRENT", ec)) {
    std::vector<std::string> existing;
    absl::Status s = FromRocksStatus(rocksdb::DB::ListColumnFamilies(
        db_options, options.data_dir, &existing));
    if (!s.ok()) return s;
    for (const std::string& name : existing) {
      if (std::find(names.begin(), names.end(), name) == names.end())
        names.push_back(name);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, name == kRecordsCf    ? records_cf
                                   : name == kKeyIndexCf ? key_index_cf
                                                         : base_cf);
  }

  rocksdb::DB* raw = nullptr;
  absl::Status s = FromRocksStatus(rocksdb::DB::Open(
      db_options, options.data_dir, descriptors, &db->handles_, &raw));
  if (!s.ok()) return s;
  db->db_.reset(raw);
  CHECK_EQ(db->handles_.size(), names.size());
  db->records_ = db->handles_[1];
  db->changelog_ = db->handles_[2];
  db->namespaces_ = db->handles_[3];
  db->meta_ = db->handles_[4];
  db->key_index_ = db->handles_[5];
  return db;
}

RocksDb::~RocksDb() {
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    rocksdb::Status s = db_->DestroyColumnFamilyHandle(handle);
    if (!s.ok())
      LOG(WARNING) << "destroying column family handle: " << s.ToString();
  }
  handles_.clear();
  rocksdb::Status s = db_->Close();
  if (!s.ok()) LOG(WARNING) << "closing RocksDB: " << s.ToString();
  db_.reset();  // before the compaction filters
}

absl::Status RocksDb::Write(rocksdb::WriteBatch& batch, bool sync) {
  rocksdb::WriteOptions options;
  options.sync = sync;
  return FromRocksStatus(db_->Write(options, &batch));
}

absl::StatusOr<std::optional<std::string>> RocksDb::Get(
    rocksdb::ColumnFamilyHandle* cf, absl::string_view key) {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf, ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocksStatus(s);
  return std::optional<std::string>(value.ToString());
}

std::vector<absl::StatusOr<std::optional<std::string>>> RocksDb::MultiGet(
    rocksdb::ColumnFamilyHandle* cf, const std::vector<std::string>& keys) {
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const std::string& key : keys) slices.emplace_back(key);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), cf, keys.size(), slices.data(),
                values.data(), statuses.data());
  std::vector<absl::StatusOr<std::optional<std::string>>> out;
  out.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      out.emplace_back(std::optional<std::string>());
    } else if (!statuses[i].ok()) {
      out.emplace_back(FromRocksStatus(statuses[i]));
    } else {
      out.emplace_back(std::optional<std::string>(values[i].ToString()));
    }
  }
  return out;
}

std::unique_ptr<rocksdb::Iterator> RocksDb::NewIterator(
    rocksdb::ColumnFamilyHandle* cf, const rocksdb::ReadOptions& options) {
  rocksdb::ReadOptions total_order = options;
  total_order.total_order_seek = true;
  return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(total_order, cf));
}

absl::Status RocksDb::IteratorStatus(const rocksdb::Iterator& it) {
  return FromRocksStatus(it.status());
}

absl::Status RocksDb::FlushAll() {
  rocksdb::FlushOptions options;
  options.wait = true;
  return FromRocksStatus(db_->Flush(options, handles_));
}

absl::Status RocksDb::CompactAll(rocksdb::ColumnFamilyHandle* cf) {
  absl::Status s = FlushAll();
  if (!s.ok()) return s;
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  return FromRocksStatus(db_->CompactRange(options, cf, nullptr, nullptr));
}

uint64_t RocksDb::WalSyncs() const {
  return statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED);
}

uint64_t RocksDb::Ticker(uint32_t ticker) const { return statistics_->getTickerCount(ticker); }

std::optional<uint64_t> RocksDb::IntProperty(rocksdb::ColumnFamilyHandle* cf,
                                             absl::string_view name) {
  uint64_t value = 0;
  if (!db_->GetIntProperty(cf, ToSlice(name), &value)) return std::nullopt;
  return value;
}

}  // namespace kv::central
