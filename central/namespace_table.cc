#include "central/namespace_table.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "central/record_store.h"
#include "common/error_space.h"
#include "common/logging.h"
#include "common/random_id.h"
#include "common/status_macros.h"
#include "proto/storage.pb.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"

namespace kv::central {
namespace {

using kv::storage::v1::ChangeEntry;
using kv::storage::v1::StoredNamespace;

constexpr size_t kNamespaceIdBytes = 32;

std::string NamespaceKey(absl::string_view id) {
  return absl::StrCat("n/", id);
}

std::string TitleKey(absl::string_view account_id, absl::string_view title) {
  std::string key = absl::StrCat("t/", account_id);
  key.push_back('\0');
  key.append(title.data(), title.size());
  return key;
}

absl::Status DuplicateTitleError() {
  return WithHttpDetail(
      absl::InvalidArgumentError(
          "a namespace with this account ID and title already exists"),
      400, kCfDuplicateTitle);
}

absl::Status CheckAccountId(absl::string_view account_id) {
  if (account_id.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("account_id contains a NUL byte");
  }
  return absl::OkStatus();
}

StoredNamespace ToStored(const NamespaceInfo& info, int64_t created_ms) {
  StoredNamespace stored;
  stored.set_id(info.id);
  stored.set_account_id(info.account_id);
  stored.set_title(info.title);
  stored.set_created_ms(created_ms);
  return stored;  // without version: the change-log entry carries it
}

ChangeEntry NamespaceEntry(ChangeEntry::Kind kind,
                           const StoredNamespace& stored) {
  ChangeEntry entry;
  entry.set_kind(kind);
  entry.set_namespace_id(stored.id());
  entry.set_value(stored.SerializeAsString());
  return entry;
}

}  // namespace

absl::Status NamespaceTable::NotFoundError() {
  return WithHttpDetail(absl::NotFoundError("namespace not found"), 404,
                        kCfNamespaceNotFound);
}

std::string NamespaceTable::RecordsBegin(absl::string_view namespace_id) {
  return std::string(namespace_id);
}

std::string NamespaceTable::RecordsEnd(absl::string_view namespace_id) {
  // Ids are 32 hex characters: incrementing the last byte cannot overflow.
  std::string end(namespace_id);
  end.back() = static_cast<char>(end.back() + 1);
  return end;
}

NamespaceTable::NamespaceTable(RocksDb& db, CommitQueue& queue,
                               const Limits& limits, Clock& clock)
    : db_(db), queue_(queue), limits_(limits), clock_(clock) {}

absl::StatusOr<std::unique_ptr<NamespaceTable>> NamespaceTable::Open(
    RocksDb& db, CommitQueue& queue, const Limits& limits, Clock& clock) {
  std::unique_ptr<NamespaceTable> table(
      new NamespaceTable(db, queue, limits, clock));
  const std::string upper = "n0";  // '0' follows '/'
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it =
      db.NewIterator(db.namespaces(), options);
  absl::MutexLock lock(&table->mu_);
  for (it->Seek("n/"); it->Valid(); it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    StoredNamespace stored;
    if (!stored.ParseFromArray(it->value().data(),
                               static_cast<int>(it->value().size())) ||
        stored.id().size() != kNamespaceIdBytes ||
        key.substr(2) != stored.id()) {
      return absl::DataLossError(absl::StrCat(
          "namespace table: malformed entry for ", absl::CHexEscape(key)));
    }
    if (stored.deleted()) {
      table->deleted_[stored.id()] = stored;
      continue;
    }
    NamespaceInfo info;
    info.id = stored.id();
    info.account_id = stored.account_id();
    info.title = stored.title();
    info.version = Version::FromProto(stored.version());
    table->Insert(info, stored.created_ms());
  }
  KV_RETURN_IF_ERROR(RocksDb::IteratorStatus(*it));
  return table;
}

void NamespaceTable::Insert(const NamespaceInfo& info, int64_t created_ms) {
  by_account_[info.account_id][info.title] = info.id;
  by_id_[info.id] = Entry{info, created_ms};
}

void NamespaceTable::Erase(absl::string_view namespace_id) {
  auto it = by_id_.find(namespace_id);
  if (it == by_id_.end()) return;
  auto account = by_account_.find(it->second.info.account_id);
  if (account != by_account_.end()) {
    auto title = account->second.find(it->second.info.title);
    if (title != account->second.end() && title->second == namespace_id)
      account->second.erase(title);
    if (account->second.empty()) by_account_.erase(account);
  }
  by_id_.erase(it);
}

absl::StatusOr<NamespaceTable::Entry> NamespaceTable::Find(
    absl::string_view account_id, absl::string_view namespace_id) const {
  auto it = by_id_.find(namespace_id);
  if (it == by_id_.end() || it->second.info.account_id != account_id)
    return NotFoundError();
  return it->second;
}

std::string NamespaceTable::FindTitle(absl::string_view account_id,
                                      absl::string_view title) const {
  auto account = by_account_.find(account_id);
  if (account == by_account_.end()) return "";
  auto it = account->second.find(std::string(title));
  return it == account->second.end() ? "" : it->second;
}

bool NamespaceTable::Exists(absl::string_view namespace_id) const {
  absl::ReaderMutexLock lock(&mu_);
  return by_id_.contains(namespace_id);
}

std::vector<NamespaceInfo> NamespaceTable::List(
    absl::string_view account_id) const {
  std::vector<NamespaceInfo> out;
  absl::ReaderMutexLock lock(&mu_);
  auto account = by_account_.find(account_id);
  if (account == by_account_.end()) return out;
  out.reserve(account->second.size());
  for (const auto& [title, id] : account->second)
    out.push_back(by_id_.at(id).info);
  return out;
}

absl::StatusOr<NamespaceInfo> NamespaceTable::Get(
    absl::string_view account_id, absl::string_view namespace_id) const {
  absl::ReaderMutexLock lock(&mu_);
  KV_ASSIGN_OR_RETURN(Entry entry, Find(account_id, namespace_id));
  return entry.info;
}

absl::StatusOr<NamespaceInfo> NamespaceTable::Create(
    absl::string_view account_id, absl::string_view title) {
  KV_RETURN_IF_ERROR(CheckAccountId(account_id));
  absl::MutexLock ops_lock(&ops_mu_);
  NamespaceInfo info;
  info.account_id = std::string(account_id);
  info.title = std::string(title);
  {
    absl::ReaderMutexLock lock(&mu_);
    if (!FindTitle(account_id, title).empty()) return DuplicateTitleError();
    auto account = by_account_.find(account_id);
    const size_t count =
        account == by_account_.end() ? 0 : account->second.size();
    if (count >= limits_.max_namespaces_per_account) {
      return WithHttpDetail(
          absl::ResourceExhaustedError(absl::StrCat(
              "account ", account_id, " has ", count,
              " namespaces; the limit is max_namespaces_per_account = ",
              limits_.max_namespaces_per_account)),
          400, kCfLimit);
    }
    do {
      info.id = RandomHexId();
    } while (by_id_.contains(info.id));
  }
  const int64_t created_ms = absl::ToUnixMillis(clock_.TimeNow());
  const StoredNamespace stored = ToStored(info, created_ms);

  CommitQueue::Request request;
  request.entries.push_back(
      NamespaceEntry(ChangeEntry::NAMESPACE_CREATE, stored));
  request.bytes = stored.ByteSizeLong();
  request.exclusive = true;
  request.prepare = [&](absl::Span<const Version> versions,
                        rocksdb::WriteBatch& batch) {
    StoredNamespace row = stored;
    versions[0].ToProto(row.mutable_version());
    batch.Put(db_.namespaces(), NamespaceKey(info.id), row.SerializeAsString());
    batch.Put(db_.namespaces(), TitleKey(info.account_id, info.title), info.id);
    return absl::OkStatus();
  };
  request.on_commit = [&](absl::Span<const Version> versions) {
    NamespaceInfo committed = info;
    committed.version = versions[0];
    absl::MutexLock lock(&mu_);
    Insert(committed, created_ms);
  };
  KV_ASSIGN_OR_RETURN(std::vector<Version> versions,
                      queue_.Commit(std::move(request)));
  info.version = versions[0];
  return info;
}

absl::StatusOr<NamespaceInfo> NamespaceTable::Rename(
    absl::string_view account_id, absl::string_view namespace_id,
    absl::string_view title) {
  absl::MutexLock ops_lock(&ops_mu_);
  Entry old;
  {
    absl::ReaderMutexLock lock(&mu_);
    KV_ASSIGN_OR_RETURN(old, Find(account_id, namespace_id));
    if (old.info.title == title) return old.info;
    if (!FindTitle(account_id, title).empty()) return DuplicateTitleError();
  }
  NamespaceInfo info = old.info;
  info.title = std::string(title);
  const StoredNamespace stored = ToStored(info, old.created_ms);

  CommitQueue::Request request;
  request.entries.push_back(
      NamespaceEntry(ChangeEntry::NAMESPACE_RENAME, stored));
  request.bytes = stored.ByteSizeLong();
  request.exclusive = true;
  request.prepare = [&](absl::Span<const Version> versions,
                        rocksdb::WriteBatch& batch) {
    StoredNamespace row = stored;
    versions[0].ToProto(row.mutable_version());
    batch.Delete(db_.namespaces(),
                 TitleKey(old.info.account_id, old.info.title));
    batch.Put(db_.namespaces(), TitleKey(info.account_id, info.title), info.id);
    batch.Put(db_.namespaces(), NamespaceKey(info.id), row.SerializeAsString());
    return absl::OkStatus();
  };
  request.on_commit = [&](absl::Span<const Version> versions) {
    NamespaceInfo committed = info;
    committed.version = versions[0];
    absl::MutexLock lock(&mu_);
    Erase(info.id);
    Insert(committed, old.created_ms);
  };
  KV_ASSIGN_OR_RETURN(std::vector<Version> versions,
                      queue_.Commit(std::move(request)));
  info.version = versions[0];
  return info;
}

absl::Status NamespaceTable::Delete(absl::string_view account_id,
                                    absl::string_view namespace_id) {
  absl::MutexLock ops_lock(&ops_mu_);
  Entry old;
  {
    absl::ReaderMutexLock lock(&mu_);
    KV_ASSIGN_OR_RETURN(old, Find(account_id, namespace_id));
  }
  const StoredNamespace stored = ToStored(old.info, old.created_ms);

  CommitQueue::Request request;
  request.entries.push_back(
      NamespaceEntry(ChangeEntry::NAMESPACE_DELETE, stored));
  request.bytes = stored.ByteSizeLong();
  request.exclusive = true;
  StoredNamespace tombstone = stored;
  tombstone.set_deleted(true);
  request.prepare = [&](absl::Span<const Version> versions,
                        rocksdb::WriteBatch& batch) {
    versions[0].ToProto(tombstone.mutable_version());
    batch.Put(db_.namespaces(), NamespaceKey(old.info.id), tombstone.SerializeAsString());
    batch.Delete(db_.namespaces(),
                 TitleKey(old.info.account_id, old.info.title));
    RecordStore::AddDeleteRange(db_, batch, RecordsBegin(old.info.id), RecordsEnd(old.info.id));
    return absl::OkStatus();
  };
  request.on_commit = [&](absl::Span<const Version> versions) {
    absl::MutexLock lock(&mu_);
    Erase(old.info.id);
    deleted_[old.info.id] = tombstone;
  };
  return queue_.Commit(std::move(request)).status();
}

bool NamespaceTable::PrepareReplicated(const ChangeEntry& entry, const Version& version,
                                       rocksdb::WriteBatch& batch) {
  StoredNamespace row;
  if (!row.ParseFromString(entry.value()) || row.id().size() != kNamespaceIdBytes ||
      row.account_id().find('\0') != std::string::npos) {
    LOG(WARNING) << "replicated namespace entry for " << entry.namespace_id()
                 << " is malformed; skipped";
    return false;
  }
  version.ToProto(row.mutable_version());
  row.set_deleted(entry.kind() == ChangeEntry::NAMESPACE_DELETE);
  absl::ReaderMutexLock lock(&mu_);
  std::optional<Entry> live;
  if (auto it = by_id_.find(row.id()); it != by_id_.end()) {
    if (it->second.info.version >= version) return false;
    live = it->second;
  }
  if (auto it = deleted_.find(row.id());
      it != deleted_.end() && Version::FromProto(it->second.version()) >= version) {
    return false;
  }
  batch.Put(db_.namespaces(), NamespaceKey(row.id()), row.SerializeAsString());
  if (live) batch.Delete(db_.namespaces(), TitleKey(live->info.account_id, live->info.title));
  if (row.deleted()) {
    RecordStore::AddDeleteRange(db_, batch, RecordsBegin(row.id()), RecordsEnd(row.id()));
  } else {
    const std::string holder = FindTitle(row.account_id(), row.title());
    if (holder.empty() || holder == row.id())
      batch.Put(db_.namespaces(), TitleKey(row.account_id(), row.title()), row.id());
  }
  return true;
}

void NamespaceTable::CommitReplicated(const ChangeEntry& entry, const Version& version) {
  StoredNamespace row;
  if (!row.ParseFromString(entry.value())) return;
  version.ToProto(row.mutable_version());
  absl::MutexLock lock(&mu_);
  Erase(row.id());
  if (entry.kind() == ChangeEntry::NAMESPACE_DELETE) {
    row.set_deleted(true);
    deleted_[row.id()] = row;
    return;
  }
  deleted_.erase(row.id());
  const std::string holder = FindTitle(row.account_id(), row.title());
  NamespaceInfo info;
  info.id = row.id();
  info.account_id = row.account_id();
  info.title = row.title();
  info.version = version;
  if (!holder.empty() && holder != row.id()) {
    // Keep the title index pointing at the holder; this one is reachable by id.
    by_id_[info.id] = Entry{info, row.created_ms()};
    return;
  }
  Insert(info, row.created_ms());
}

bool NamespaceTable::DeletedSince(absl::string_view namespace_id, const Version& version) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = deleted_.find(namespace_id);
  return it != deleted_.end() && Version::FromProto(it->second.version()) >= version;
}

std::vector<StoredNamespace> NamespaceTable::AllRows() const {
  std::vector<StoredNamespace> rows;
  absl::ReaderMutexLock lock(&mu_);
  rows.reserve(by_id_.size() + deleted_.size());
  for (const auto& [id, entry] : by_id_) {
    StoredNamespace& row = rows.emplace_back(ToStored(entry.info, entry.created_ms));
    entry.info.version.ToProto(row.mutable_version());
  }
  for (const auto& [id, row] : deleted_) rows.push_back(row);
  return rows;
}

}  // namespace kv::central
