#include "central/record_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "central/meta_keys.h"
#include "common/logging.h"
#include "common/record_codec.h"
#include "common/status_macros.h"
#include "proto/storage.pb.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"

namespace kv::central {
namespace {

using kv::storage::v1::ChangeEntry;

constexpr size_t kNamespaceIdBytes = 32;
// Per-mutation overhead counted against the group size bound.
constexpr size_t kEntryOverheadBytes = 64;

// The smallest string greater than every string starting with `prefix`.
// REQUIRES: `prefix` has a byte other than 0xff (it starts with a hex id).
std::string PrefixSuccessor(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff)
    prefix.pop_back();
  prefix.back() =
      static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

absl::string_view ToView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace

RecordStore::RecordStore(const RecordStoreOptions& options, RocksDb& db,
                         CommitQueue& queue, const NamespaceTable& namespaces,
                         Clock& clock)
    : options_(options),
      db_(db),
      queue_(queue),
      namespaces_(namespaces),
      clock_(clock) {}

std::string RecordStore::RecordKey(absl::string_view namespace_id,
                                   absl::string_view key) {
  std::string out;
  out.reserve(namespace_id.size() + key.size());
  out.append(namespace_id.data(), namespace_id.size());
  out.append(key.data(), key.size());
  return out;
}

void RecordStore::AddPut(RocksDb& db, rocksdb::WriteBatch& batch, const std::string& record_key,
                         const Record& record) {
  batch.Put(db.records(), record_key, EncodeRecord(record));
  batch.Put(db.key_index(), record_key, EncodeRecordHead(record));
}

void RecordStore::AddDeleteRange(RocksDb& db, rocksdb::WriteBatch& batch,
                                 const std::string& begin, const std::string& end) {
  batch.DeleteRange(db.records(), begin, end);
  batch.DeleteRange(db.key_index(), begin, end);
}

absl::Status RecordStore::EnsureKeyIndex(RocksDb& db) {
  KV_ASSIGN_OR_RETURN(std::optional<std::string> built,
                      db.Get(db.meta(), kMetaKeyIndexBuiltKey));
  if (built) return absl::OkStatus();
  // Nothing else runs yet: the records cannot change under the scan.
  // Entries are rewritten from scratch, so an interrupted build is redone.
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it = db.NewIterator(db.records(), options);
  rocksdb::WriteBatch batch;
  uint64_t indexed = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    absl::StatusOr<Record> record = DecodeRecord(ToView(it->value()));
    if (!record.ok()) {
      LOG(ERROR) << "key index: skipping undecodable record "
                 << absl::CHexEscape(ToView(it->key())) << ": " << record.status();
      continue;
    }
    batch.Put(db.key_index(), it->key(), EncodeRecordHead(*record));
    if (++indexed % 1024 == 0) {
      KV_RETURN_IF_ERROR(db.Write(batch, /*sync=*/false));
      batch.Clear();
    }
  }
  KV_RETURN_IF_ERROR(RocksDb::IteratorStatus(*it));
  batch.Put(db.meta(), kMetaKeyIndexBuiltKey, "1");
  KV_RETURN_IF_ERROR(db.Write(batch, /*sync=*/true));
  if (indexed > 0) LOG(INFO) << "key index built from " << indexed << " records";
  return absl::OkStatus();
}

bool RecordStore::IsLive(const RecordHeader& header, absl::Time now) {
  return !header.tombstone &&
         !(header.expiration != 0 && absl::ToUnixSeconds(now) >= header.expiration);
}

absl::StatusOr<std::optional<Record>> RecordStore::LiveRecord(
    absl::string_view bytes, absl::Time now) {
  // The header alone first: dead records need no value copy.
  KV_ASSIGN_OR_RETURN(RecordHeader header, DecodeRecordHeader(bytes));
  if (!IsLive(header, now)) return std::optional<Record>();
  KV_ASSIGN_OR_RETURN(Record record, DecodeRecord(bytes));
  return std::optional<Record>(std::move(record));
}

CommitQueue::Request RecordStore::PutRequest(absl::string_view namespace_id,
                                             std::vector<PutOp> ops) const {
  CommitQueue::Request request;
  request.entries.reserve(ops.size());
  for (const PutOp& op : ops) {
    ChangeEntry& entry = request.entries.emplace_back();
    entry.set_kind(ChangeEntry::PUT);
    entry.set_namespace_id(std::string(namespace_id));
    entry.set_key(op.key);
    entry.set_expiration(op.expiration);
    if (op.value.size() <= options_.inline_value_bytes) {
      entry.set_value_included(true);
      entry.set_value(op.value);
      if (op.metadata) entry.set_metadata(*op.metadata);
    }
    request.bytes += op.key.size() + op.value.size() +
                     (op.metadata ? op.metadata->size() : 0) +
                     kEntryOverheadBytes;
  }
  request.prepare = [this, ns = std::string(namespace_id), ops = std::move(ops)](
                        absl::Span<const Version> versions,
                        rocksdb::WriteBatch& batch) mutable {
    if (!namespaces_.Exists(ns)) return NamespaceTable::NotFoundError();
    Record record;
    for (size_t i = 0; i < ops.size(); ++i) {
      PutOp& op = ops[i];
      record.value = std::move(op.value);
      record.metadata = std::move(op.metadata);
      record.expiration = op.expiration;
      record.version = versions[i];
      AddPut(db_, batch, RecordKey(ns, op.key), record);
      // Borrowed to save a copy; given back.
      op.value = std::move(record.value);
      op.metadata = std::move(record.metadata);
    }
    return absl::OkStatus();
  };
  return request;
}

CommitQueue::Request RecordStore::DeleteRequest(absl::string_view namespace_id,
                                                std::vector<std::string> keys) const {
  CommitQueue::Request request;
  request.entries.reserve(keys.size());
  for (const std::string& key : keys) {
    ChangeEntry& entry = request.entries.emplace_back();
    entry.set_kind(ChangeEntry::DELETE);
    entry.set_namespace_id(std::string(namespace_id));
    entry.set_key(key);
    request.bytes += key.size() + kEntryOverheadBytes;
  }
  request.prepare = [this, ns = std::string(namespace_id), keys = std::move(keys)](
                        absl::Span<const Version> versions, rocksdb::WriteBatch& batch) {
    if (!namespaces_.Exists(ns)) return NamespaceTable::NotFoundError();
    Record tombstone;
    tombstone.tombstone = true;
    for (size_t i = 0; i < keys.size(); ++i) {
      tombstone.version = versions[i];
      AddPut(db_, batch, RecordKey(ns, keys[i]), tombstone);
    }
    return absl::OkStatus();
  };
  return request;
}

namespace {

// The version of the last mutation of a commit (a zero Version for none).
absl::StatusOr<Version> LastVersion(absl::StatusOr<std::vector<Version>> versions) {
  if (!versions.ok()) return versions.status();
  if (versions->empty()) return Version();
  return versions->back();
}

}  // namespace

absl::StatusOr<Version> RecordStore::PutMany(absl::string_view namespace_id,
                                             std::vector<PutOp> ops) {
  if (!namespaces_.Exists(namespace_id)) return NamespaceTable::NotFoundError();
  if (ops.empty()) return Version();
  return LastVersion(queue_.Commit(PutRequest(namespace_id, std::move(ops))));
}

void RecordStore::PutManyAsync(absl::string_view namespace_id, std::vector<PutOp> ops,
                               WriteDone done) {
  if (!namespaces_.Exists(namespace_id)) return std::move(done)(NamespaceTable::NotFoundError());
  if (ops.empty()) return std::move(done)(Version());
  queue_.CommitAsync(PutRequest(namespace_id, std::move(ops)),
                     [done = std::move(done)](absl::StatusOr<std::vector<Version>> v) mutable {
                       std::move(done)(LastVersion(std::move(v)));
                     });
}

absl::StatusOr<Version> RecordStore::DeleteMany(
    absl::string_view namespace_id, const std::vector<std::string>& keys) {
  if (!namespaces_.Exists(namespace_id)) return NamespaceTable::NotFoundError();
  if (keys.empty()) return Version();
  return LastVersion(queue_.Commit(DeleteRequest(namespace_id, keys)));
}

void RecordStore::DeleteManyAsync(absl::string_view namespace_id,
                                  std::vector<std::string> keys, WriteDone done) {
  if (!namespaces_.Exists(namespace_id)) return std::move(done)(NamespaceTable::NotFoundError());
  if (keys.empty()) return std::move(done)(Version());
  queue_.CommitAsync(DeleteRequest(namespace_id, std::move(keys)),
                     [done = std::move(done)](absl::StatusOr<std::vector<Version>> v) mutable {
                       std::move(done)(LastVersion(std::move(v)));
                     });
}

absl::StatusOr<std::optional<Record>> RecordStore::Get(
    absl::string_view namespace_id, absl::string_view key) {
  if (!namespaces_.Exists(namespace_id)) return NamespaceTable::NotFoundError();
  KV_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                      db_.Get(db_.records(), RecordKey(namespace_id, key)));
  if (!bytes) return std::optional<Record>();
  return LiveRecord(*bytes, clock_.TimeNow());
}

absl::StatusOr<std::vector<std::optional<Record>>> RecordStore::GetMany(
    absl::string_view namespace_id, const std::vector<std::string>& keys,
    std::vector<Version>* dead_versions) {
  if (!namespaces_.Exists(namespace_id)) return NamespaceTable::NotFoundError();
  if (dead_versions != nullptr) dead_versions->assign(keys.size(), Version());
  std::vector<std::string> record_keys;
  record_keys.reserve(keys.size());
  for (const std::string& key : keys)
    record_keys.push_back(RecordKey(namespace_id, key));
  std::vector<absl::StatusOr<std::optional<std::string>>> values =
      db_.MultiGet(db_.records(), record_keys);
  const absl::Time now = clock_.TimeNow();
  std::vector<std::optional<Record>> out;
  out.reserve(keys.size());
  for (absl::StatusOr<std::optional<std::string>>& value : values) {
    if (!value.ok()) return value.status();
    if (!value->has_value()) {
      out.emplace_back();
      continue;
    }
    KV_ASSIGN_OR_RETURN(std::optional<Record> record, LiveRecord(**value, now));
    if (!record && dead_versions != nullptr) {
      KV_ASSIGN_OR_RETURN(RecordHeader header, DecodeRecordHeader(**value));
      (*dead_versions)[out.size()] = header.version;
    }
    out.push_back(std::move(record));
  }
  return out;
}

absl::StatusOr<std::vector<std::optional<Version>>> RecordStore::LiveVersions(
    absl::string_view namespace_id, const std::vector<std::string>& keys) {
  if (!namespaces_.Exists(namespace_id)) return NamespaceTable::NotFoundError();
  std::vector<std::string> record_keys;
  record_keys.reserve(keys.size());
  for (const std::string& key : keys) record_keys.push_back(RecordKey(namespace_id, key));
  std::vector<absl::StatusOr<std::optional<std::string>>> heads =
      db_.MultiGet(db_.key_index(), record_keys);
  const absl::Time now = clock_.TimeNow();
  std::vector<std::optional<Version>> out;
  out.reserve(keys.size());
  for (absl::StatusOr<std::optional<std::string>>& head : heads) {
    if (!head.ok()) return head.status();
    std::optional<Version>& version = out.emplace_back();
    if (!head->has_value()) continue;
    KV_ASSIGN_OR_RETURN(RecordHeader header, DecodeRecordHeader(**head));
    if (IsLive(header, now)) version = header.version;
  }
  return out;
}

absl::StatusOr<ListPage> RecordStore::List(absl::string_view namespace_id,
                                           absl::string_view prefix,
                                           uint32_t limit,
                                           absl::string_view cursor) {
  if (!namespaces_.Exists(namespace_id)) return NamespaceTable::NotFoundError();
  if (limit == 0)
    return absl::InvalidArgumentError("list limit is 0; it must be at least 1");
  std::string start = RecordKey(namespace_id, prefix);
  if (!cursor.empty()) {
    std::string after;
    if (!absl::WebSafeBase64Unescape(cursor, &after)) {
      return absl::InvalidArgumentError("invalid cursor");
    }
    // Strictly after the cursor's key: its immediate successor.
    after = RecordKey(namespace_id, after);
    after.push_back('\0');
    start = std::max(start, after);
  }
  const std::string upper = PrefixSuccessor(RecordKey(namespace_id, prefix));
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  // The key index: names, expirations and metadata without the values.
  std::unique_ptr<rocksdb::Iterator> it =
      db_.NewIterator(db_.key_index(), options);

  const absl::Time now = clock_.TimeNow();
  ListPage page;
  size_t dead = 0;
  for (it->Seek(start); it->Valid(); it->Next()) {
    const absl::string_view key = ToView(it->key()).substr(kNamespaceIdBytes);
    KV_ASSIGN_OR_RETURN(RecordHeader header,
                        DecodeRecordHeader(ToView(it->value())));
    if (!IsLive(header, now)) {
      if (++dead >= options_.max_dead_per_page) {
        // Bounded work: resume after this dead key.
        page.complete = false;
        page.cursor = absl::WebSafeBase64Escape(key);
        return page;
      }
      continue;
    }
    if (page.keys.size() == limit) {
      // A live key follows the page.
      page.complete = false;
      page.cursor = absl::WebSafeBase64Escape(page.keys.back().key);
      return page;
    }
    KV_ASSIGN_OR_RETURN(Record record, DecodeRecord(ToView(it->value())));
    ListedRecord& listed = page.keys.emplace_back();
    listed.key = std::string(key);
    listed.expiration = record.expiration;
    listed.metadata = std::move(record.metadata);
  }
  KV_RETURN_IF_ERROR(RocksDb::IteratorStatus(*it));
  page.complete = true;
  return page;
}

}  // namespace kv::central
