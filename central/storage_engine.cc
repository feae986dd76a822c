#include "central/storage_engine.h"

#include "rocksdb/statistics.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "central/expiry_compaction_filter.h"
#include "central/meta_keys.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace kv::central {

absl::StatusOr<std::unique_ptr<StorageEngine>> StorageEngine::Open(
    const StorageOptions& options, Clock& clock) {
  if (options.data_dir.empty()) {
    return absl::InvalidArgumentError("StorageOptions.data_dir is required");
  }
  if (options.node_id == 0) {
    return absl::InvalidArgumentError("StorageOptions.node_id must not be 0");
  }
  if (options.tombstone_grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "StorageOptions.tombstone_grace is negative");
  }
  std::unique_ptr<StorageEngine> engine(new StorageEngine());

  RocksDbOptions db_options;
  db_options.data_dir = options.data_dir;
  db_options.min_blob_bytes = options.min_blob_bytes;
  db_options.wal_prefill_bytes = options.wal_prefill_bytes;
  db_options.records_memtable_buckets = options.records_memtable_buckets;
  db_options.records_filter =
      std::make_unique<ExpiryCompactionFilter>(clock, options.tombstone_grace,
                                               engine->purge_horizon_ms_);
  db_options.key_index_filter =
      std::make_unique<ExpiryCompactionFilter>(clock, options.tombstone_grace,
                                               engine->purge_horizon_ms_);
  KV_ASSIGN_OR_RETURN(engine->db_, RocksDb::Open(std::move(db_options)));
  RocksDb& db = *engine->db_;
  KV_RETURN_IF_ERROR(RecordStore::EnsureKeyIndex(db));

  KV_ASSIGN_OR_RETURN(engine->log_, ChangeLogImpl::Open(db));

  // The HLC starts above every version stored, whatever the wall clock says.
  engine->hlc_ = std::make_unique<Hlc>(clock, options.node_id);
  KV_ASSIGN_OR_RETURN(std::optional<std::string> max_version,
                      db.Get(db.meta(), kMetaMaxVersionKey));
  if (max_version) {
    std::optional<Version> floor = DecodeMetaVersion(*max_version);
    if (!floor) {
      return absl::DataLossError(absl::StrCat(
          "meta: max_version is ", max_version->size(), " bytes; expected 16"));
    }
    engine->hlc_->AdvanceTo(*floor);
  }

  CommitQueue::Options queue_options;
  queue_options.sync = options.sync_writes;
  queue_options.max_clock_offset = options.max_clock_offset;
  engine->queue_ = std::make_unique<CommitQueue>(
      queue_options, db, *engine->log_, *engine->hlc_, clock);
  KV_ASSIGN_OR_RETURN(
      engine->namespaces_,
      NamespaceTable::Open(db, *engine->queue_, options.limits, clock));

  RecordStoreOptions record_options;
  record_options.inline_value_bytes = options.inline_value_bytes;
  engine->records_ = std::make_unique<RecordStore>(
      record_options, db, *engine->queue_, *engine->namespaces_, clock);
  engine->replica_ =
      std::make_unique<ReplicaStore>(db, *engine->queue_, *engine->namespaces_, clock,
                                     options.inline_value_bytes);
  LOG(INFO) << "storage open at " << options.data_dir << ": log incarnation "
            << engine->log_->incarnation() << ", sequences "
            << engine->log_->FirstSequence() << ".."
            << engine->log_->LastSequence() << ", HLC at "
            << engine->hlc_->Last().ToString();
  return engine;
}

StorageEngine::~StorageEngine() = default;

absl::StatusOr<NamespaceInfo> StorageEngine::CreateNamespace(
    absl::string_view account_id, absl::string_view title) {
  if (write_gate_) KV_RETURN_IF_ERROR(write_gate_());
  if (coordinator_ != nullptr) {
    NamespaceOp op{NamespaceOp::Kind::kCreate, std::string(account_id), "", std::string(title)};
    if (auto forwarded = coordinator_->Forward(op)) return *std::move(forwarded);
  }
  return namespaces_->Create(account_id, title);
}

absl::StatusOr<std::vector<NamespaceInfo>> StorageEngine::ListNamespaces(
    absl::string_view account_id) {
  if (read_gate_) KV_RETURN_IF_ERROR(read_gate_());
  return namespaces_->List(account_id);
}

absl::StatusOr<NamespaceInfo> StorageEngine::GetNamespace(
    absl::string_view account_id, absl::string_view namespace_id) {
  absl::StatusOr<NamespaceInfo> info = namespaces_->Get(account_id, namespace_id);
  // "Not found" is a read too: a central that may miss writes cannot say it.
  if (absl::IsNotFound(info.status()) && read_gate_) KV_RETURN_IF_ERROR(read_gate_());
  return info;
}

absl::StatusOr<NamespaceInfo> StorageEngine::RenameNamespace(
    absl::string_view account_id, absl::string_view namespace_id,
    absl::string_view title) {
  if (write_gate_) KV_RETURN_IF_ERROR(write_gate_());
  if (coordinator_ != nullptr) {
    NamespaceOp op{NamespaceOp::Kind::kRename, std::string(account_id), std::string(namespace_id),
                   std::string(title)};
    if (auto forwarded = coordinator_->Forward(op)) return *std::move(forwarded);
  }
  return namespaces_->Rename(account_id, namespace_id, title);
}

absl::Status StorageEngine::DeleteNamespace(absl::string_view account_id,
                                            absl::string_view namespace_id) {
  if (write_gate_) KV_RETURN_IF_ERROR(write_gate_());
  if (coordinator_ != nullptr) {
    NamespaceOp op{NamespaceOp::Kind::kDelete, std::string(account_id), std::string(namespace_id),
                   ""};
    if (auto forwarded = coordinator_->Forward(op)) return forwarded->status();
  }
  return namespaces_->Delete(account_id, namespace_id);
}

absl::StatusOr<Version> StorageEngine::Put(absl::string_view namespace_id,
                                           PutOp op) {
  if (write_gate_) KV_RETURN_IF_ERROR(write_gate_());
  std::vector<PutOp> ops;
  ops.push_back(std::move(op));
  return records_->PutMany(namespace_id, std::move(ops));
}

absl::StatusOr<Version> StorageEngine::PutMany(absl::string_view namespace_id,
                                               std::vector<PutOp> ops) {
  if (write_gate_) KV_RETURN_IF_ERROR(write_gate_());
  return records_->PutMany(namespace_id, std::move(ops));
}

absl::StatusOr<Version> StorageEngine::Delete(absl::string_view namespace_id,
                                              absl::string_view key) {
  if (write_gate_) KV_RETURN_IF_ERROR(write_gate_());
  return records_->DeleteMany(namespace_id, {std::string(key)});
}

absl::StatusOr<Version> StorageEngine::DeleteMany(
    absl::string_view namespace_id, const std::vector<std::string>& keys) {
  if (write_gate_) KV_RETURN_IF_ERROR(write_gate_());
  return records_->DeleteMany(namespace_id, keys);
}

void StorageEngine::PutManyAsync(absl::string_view namespace_id, std::vector<PutOp> ops,
                                 WriteDone done) {
  if (write_gate_) {
    if (absl::Status s = write_gate_(); !s.ok()) return std::move(done)(std::move(s));
  }
  records_->PutManyAsync(namespace_id, std::move(ops), std::move(done));
}

void StorageEngine::DeleteManyAsync(absl::string_view namespace_id,
                                    std::vector<std::string> keys, WriteDone done) {
  if (write_gate_) {
    if (absl::Status s = write_gate_(); !s.ok()) return std::move(done)(std::move(s));
  }
  records_->DeleteManyAsync(namespace_id, std::move(keys), std::move(done));
}

absl::StatusOr<std::optional<Record>> StorageEngine::Get(
    absl::string_view namespace_id, absl::string_view key) {
  if (read_gate_) KV_RETURN_IF_ERROR(read_gate_());
  return records_->Get(namespace_id, key);
}

absl::StatusOr<std::vector<std::optional<Record>>> StorageEngine::GetMany(
    absl::string_view namespace_id, const std::vector<std::string>& keys,
    std::vector<Version>* dead_versions) {
  if (read_gate_) KV_RETURN_IF_ERROR(read_gate_());
  return records_->GetMany(namespace_id, keys, dead_versions);
}

absl::StatusOr<std::vector<std::optional<Version>>> StorageEngine::LiveVersions(
    absl::string_view namespace_id, const std::vector<std::string>& keys) {
  if (read_gate_) KV_RETURN_IF_ERROR(read_gate_());
  return records_->LiveVersions(namespace_id, keys);
}

absl::StatusOr<ListPage> StorageEngine::List(absl::string_view namespace_id,
                                             absl::string_view prefix,
                                             uint32_t limit,
                                             absl::string_view cursor) {
  if (read_gate_) KV_RETURN_IF_ERROR(read_gate_());
  return records_->List(namespace_id, prefix, limit, cursor);
}

void StorageEngine::SetTombstonePurgeHorizon(absl::Time horizon) {
  int64_t ms = INT64_MAX;
  if (horizon == absl::InfinitePast()) {
    ms = INT64_MIN;
  } else if (horizon != absl::InfiniteFuture()) {
    ms = absl::ToUnixMillis(horizon);
  }
  purge_horizon_ms_->store(ms, std::memory_order_relaxed);
}

absl::Status StorageEngine::Flush() { return db_->FlushAll(); }

absl::Status StorageEngine::CompactForTesting() {
  KV_RETURN_IF_ERROR(db_->CompactAll(db_->records()));
  KV_RETURN_IF_ERROR(db_->CompactAll(db_->key_index()));
  return db_->CompactAll(db_->changelog());
}

uint64_t StorageEngine::WalSyncsForTesting() { return db_->WalSyncs(); }

std::vector<std::pair<std::string, double>> StorageEngine::EngineFigures() {
  std::vector<std::pair<std::string, double>> out = {
      {"wal_synced_total", static_cast<double>(db_->WalSyncs())},
      {"wal_bytes_total", static_cast<double>(db_->Ticker(rocksdb::WAL_FILE_BYTES))},
      {"bytes_written_total", static_cast<double>(db_->Ticker(rocksdb::BYTES_WRITTEN))},
      {"bytes_read_total", static_cast<double>(db_->Ticker(rocksdb::BYTES_READ))},
      {"compaction_bytes_written_total",
       static_cast<double>(db_->Ticker(rocksdb::COMPACT_WRITE_BYTES))},
      {"blob_bytes_read_total",
       static_cast<double>(db_->Ticker(rocksdb::BLOB_DB_BLOB_FILE_BYTES_READ))},
  };
  auto property = [&](const char* name, rocksdb::ColumnFamilyHandle* cf, const char* property) {
    if (std::optional<uint64_t> v = db_->IntProperty(cf, property))
      out.emplace_back(name, static_cast<double>(*v));
  };
  property("estimated_records", db_->records(), "rocksdb.estimate-num-keys");
  property("records_sst_bytes", db_->records(), "rocksdb.total-sst-files-size");
  property("records_blob_bytes", db_->records(), "rocksdb.live-blob-file-size");
  property("key_index_sst_bytes", db_->key_index(), "rocksdb.total-sst-files-size");
  property("changelog_sst_bytes", db_->changelog(), "rocksdb.total-sst-files-size");
  property("memtable_bytes", db_->records(), "rocksdb.cur-size-all-mem-tables");
  property("pending_compaction_bytes", db_->records(),
           "rocksdb.estimate-pending-compaction-bytes");
  property("running_compactions", db_->records(), "rocksdb.num-running-compactions");
  return out;
}

}  // namespace kv::central
