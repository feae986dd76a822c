#include "central/replica_store.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "central/record_store.h"
#include "common/record_codec.h"
#include "common/status_macros.h"
#include "rocksdb/options.h"

namespace kv::central {
namespace {

using kv::replication::v1::BucketKeysRequest;
using kv::replication::v1::BucketKeysResponse;
using kv::replication::v1::DigestRequest;
using kv::replication::v1::DigestResponse;
using kv::storage::v1::ChangeEntry;

constexpr size_t kNamespaceIdBytes = 32;

thread_local bool committing_replicated = false;

// Marks the calling thread as committing replicated entries while alive.
class CommittingReplicatedScope {
 public:
  CommittingReplicatedScope() { committing_replicated = true; }
  ~CommittingReplicatedScope() { committing_replicated = false; }
};
constexpr size_t kEntryOverheadBytes = 64;

std::string PeerProgressKey(uint32_t peer_id) { return absl::StrCat("peer/", peer_id); }

// FNV-1a, 64 bit: stable everywhere (absl::Hash is seeded per process).
uint64_t Fnv1a(absl::string_view bytes, uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

uint64_t Mix(uint64_t x) {  // splitmix64 finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t RecordHash(absl::string_view key, const RecordHeader& header) {
  uint64_t h = Fnv1a(key);
  h = Mix(h ^ header.version.physical_ms);
  h = Mix(h ^ (static_cast<uint64_t>(header.version.logical) << 32 | header.version.node_id));
  return Mix(h ^ (header.tombstone ? 1 : 0));
}

// Whether digests leave the record out (see ReplicaStore).
bool OutOfDigest(const RecordHeader& header, int64_t expired_before,
                 int64_t tombstones_before_ms) {
  if (header.tombstone)
    return static_cast<int64_t>(header.version.physical_ms) < tombstones_before_ms;
  return header.expiration != 0 && header.expiration < expired_before;
}

ChangeEntry EntryFromRecord(absl::string_view namespace_id, absl::string_view key,
                            const Record& record) {
  ChangeEntry entry;
  entry.set_kind(record.tombstone ? ChangeEntry::DELETE : ChangeEntry::PUT);
  entry.set_namespace_id(std::string(namespace_id));
  entry.set_key(std::string(key));
  record.version.ToProto(entry.mutable_version());
  if (!record.tombstone) {
    entry.set_value_included(true);
    entry.set_value(record.value);
    if (record.metadata) entry.set_metadata(*record.metadata);
    entry.set_expiration(record.expiration);
  }
  return entry;
}

}  // namespace

ReplicaStore::ReplicaStore(RocksDb& db, CommitQueue& queue, NamespaceTable& namespaces,
                           Clock& clock, size_t inline_value_bytes)
    : db_(db),
      queue_(queue),
      namespaces_(namespaces),
      clock_(clock),
      inline_value_bytes_(inline_value_bytes) {}

bool ReplicaStore::CommittingReplicated() { return committing_replicated; }

uint32_t ReplicaStore::BucketOf(absl::string_view key, uint32_t buckets) {
  return buckets == 0 ? 0 : static_cast<uint32_t>(Mix(Fnv1a(key)) % buckets);
}

absl::StatusOr<size_t> ReplicaStore::Apply(std::vector<ChangeEntry> entries, uint32_t peer_id,
                                           const std::optional<PeerProgress>& progress,
                                           uint64_t first_sequence) {
  // NOOPs carry nothing to apply.
  std::erase_if(entries, [](const ChangeEntry& e) {
    return e.kind() == ChangeEntry::NOOP || e.kind() == ChangeEntry::KIND_UNSPECIFIED;
  });
  // Records already held at this version or newer (echoes of writes that
  // reached this central another way) are dropped before the commit queue:
  // stored versions only grow, so the check cannot go stale.
  {
    std::vector<std::string> record_keys;
    std::vector<size_t> positions;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i].kind() != ChangeEntry::PUT && entries[i].kind() != ChangeEntry::DELETE)
        continue;
      record_keys.push_back(RecordStore::RecordKey(entries[i].namespace_id(), entries[i].key()));
      positions.push_back(i);
    }
    if (!record_keys.empty()) {
      std::vector<absl::StatusOr<std::optional<std::string>>> stored =
          db_.MultiGet(db_.key_index(), record_keys);
      std::vector<bool> drop(entries.size(), false);
      for (size_t j = 0; j < positions.size(); ++j) {
        if (!stored[j].ok() || !*stored[j]) continue;
        absl::StatusOr<RecordHeader> header = DecodeRecordHeader(**stored[j]);
        if (header.ok() &&
            header->version >= Version::FromProto(entries[positions[j]].version()))
          drop[positions[j]] = true;
      }
      std::vector<ChangeEntry> kept;
      kept.reserve(entries.size());
      for (size_t i = 0; i < entries.size(); ++i) {
        if (!drop[i]) kept.push_back(std::move(entries[i]));
      }
      entries = std::move(kept);
    }
  }
  if (entries.empty()) {
    if (!progress) return 0;
    rocksdb::WriteBatch batch;
    batch.Put(db_.meta(), PeerProgressKey(peer_id),
              absl::StrCat(progress->incarnation, " ", progress->sequence));
    // Nothing to make durable but the position: a lost one is re-read.
    KV_RETURN_IF_ERROR(db_.Write(batch, /*sync=*/false));
    return 0;
  }
  CommitQueue::Request request;
  request.versions_given = true;
  request.await_replicas = false;
  request.exclusive = true;  // a record written earlier in a group is not yet readable
  for (const ChangeEntry& entry : entries)
    request.bytes += entry.key().size() + entry.value().size() + kEntryOverheadBytes;
  request.entries = std::move(entries);
  size_t applied = 0;
  std::vector<bool> namespace_applied;
  CommitQueue::Request* req = &request;
  request.prepare = [&, req](absl::Span<const Version> versions, rocksdb::WriteBatch& batch) {
    applied = 0;
    namespace_applied.assign(req->entries.size(), false);
    // The newest version written so far in this batch, per record key.
    absl::flat_hash_map<std::string, Version> written;
    for (size_t i = 0; i < req->entries.size(); ++i) {
      ChangeEntry& entry = req->entries[i];
      const Version& version = versions[i];
      switch (entry.kind()) {
        case ChangeEntry::NAMESPACE_CREATE:
        case ChangeEntry::NAMESPACE_RENAME:
        case ChangeEntry::NAMESPACE_DELETE:
          namespace_applied[i] = namespaces_.PrepareReplicated(entry, version, batch);
          req->skip[i] = !namespace_applied[i];
          if (namespace_applied[i]) ++applied;
          continue;
        case ChangeEntry::PUT:
        case ChangeEntry::DELETE:
          break;
        default:
          req->skip[i] = true;
          continue;
      }
      if (entry.namespace_id().size() != kNamespaceIdBytes ||
          (entry.kind() == ChangeEntry::PUT && !entry.value_included()) ||
          namespaces_.DeletedSince(entry.namespace_id(), version)) {
        req->skip[i] = true;
        continue;
      }
      std::string record_key = RecordStore::RecordKey(entry.namespace_id(), entry.key());
      std::optional<Version> current;
      if (auto it = written.find(record_key); it != written.end()) {
        current = it->second;
      } else {
        KV_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                            db_.Get(db_.key_index(), record_key));
        if (stored) {
          absl::StatusOr<RecordHeader> header = DecodeRecordHeader(*stored);
          if (header.ok()) current = header->version;
        }
      }
      if (current && *current >= version) {
        req->skip[i] = true;
        continue;
      }
      Record record;
      record.version = version;
      if (entry.kind() == ChangeEntry::DELETE) {
        record.tombstone = true;
      } else {
        record.value = entry.value();
        if (entry.has_metadata()) record.metadata = entry.metadata();
        record.expiration = entry.expiration();
      }
      RecordStore::AddPut(db_, batch, record_key, record);
      written[record_key] = version;
      ++applied;
    }
    if (progress) {
      batch.Put(db_.meta(), PeerProgressKey(peer_id),
                absl::StrCat(progress->incarnation, " ", progress->sequence));
    }
    // Edges refresh small values in place; large ones are dropped and
    // fetched again.
    for (size_t i = 0; i < req->entries.size(); ++i) {
      ChangeEntry& entry = req->entries[i];
      if (req->skip[i] || entry.kind() != ChangeEntry::PUT) continue;
      if (entry.value().size() > inline_value_bytes_) {
        entry.set_value_included(false);
        entry.clear_value();
        entry.clear_metadata();
      }
    }
    return absl::OkStatus();
  };
  request.on_commit = [&, req](absl::Span<const Version> versions) {
    for (size_t i = 0; i < req->entries.size(); ++i) {
      if (namespace_applied[i]) namespaces_.CommitReplicated(req->entries[i], versions[i]);
    }
  };
  if (progress && first_sequence != 0 && first_sequence <= progress->sequence) {
    // Before the log is published: a sender that reads these entries finds
    // where they came from.
    request.on_logged = [&](uint64_t first_local, uint64_t last_local) {
      relay_origins_.Record(first_local, last_local,
                            RelayOrigins::Source{peer_id, progress->incarnation, first_sequence,
                                                 progress->sequence});
    };
  }
  {
    CommittingReplicatedScope scope;
    KV_RETURN_IF_ERROR(queue_.Commit(std::move(request)).status());
  }
  return applied;
}

absl::StatusOr<PeerProgress> ReplicaStore::GetPeerProgress(uint32_t peer_id) {
  KV_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                      db_.Get(db_.meta(), PeerProgressKey(peer_id)));
  PeerProgress progress;
  if (!stored) return progress;
  std::vector<std::string> parts = absl::StrSplit(*stored, ' ');
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &progress.sequence)) {
    return absl::DataLossError(absl::StrCat("meta: malformed progress for peer ", peer_id));
  }
  progress.incarnation = parts[0];
  return progress;
}

absl::Status ReplicaStore::FillFromStore(ChangeEntry& entry) {
  if (entry.kind() != ChangeEntry::PUT && entry.kind() != ChangeEntry::DELETE)
    return absl::OkStatus();
  // A small value rides in the entry itself: that write as it was is as good
  // as the record now (a newer write follows in the log), and saves a read.
  if (entry.kind() == ChangeEntry::DELETE || entry.value_included()) return absl::OkStatus();
  KV_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                      db_.Get(db_.records(),
                              RecordStore::RecordKey(entry.namespace_id(), entry.key())));
  if (!stored) {
    entry.set_kind(ChangeEntry::NOOP);
    entry.clear_value();
    return absl::OkStatus();
  }
  KV_ASSIGN_OR_RETURN(Record record, DecodeRecord(*stored));
  ChangeEntry filled = EntryFromRecord(entry.namespace_id(), entry.key(), record);
  // The commit times stay those of the entry (propagation latency).
  filled.set_commit_time_ms(entry.commit_time_ms());
  filled.set_commit_time_us(entry.commit_time_us());
  entry = std::move(filled);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ChangeEntry>> ReplicaStore::Fetch(
    absl::string_view namespace_id, const std::vector<std::string>& keys) {
  std::vector<std::string> record_keys;
  record_keys.reserve(keys.size());
  for (const std::string& key : keys)
    record_keys.push_back(RecordStore::RecordKey(namespace_id, key));
  std::vector<absl::StatusOr<std::optional<std::string>>> stored =
      db_.MultiGet(db_.records(), record_keys);
  std::vector<ChangeEntry> out;
  const int64_t now_us = absl::ToUnixMicros(clock_.TimeNow());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!stored[i].ok()) return stored[i].status();
    if (!*stored[i]) continue;
    KV_ASSIGN_OR_RETURN(Record record, DecodeRecord(**stored[i]));
    ChangeEntry& entry = out.emplace_back(EntryFromRecord(namespace_id, keys[i], record));
    entry.set_commit_time_ms(static_cast<int64_t>(record.version.physical_ms));
    entry.set_commit_time_us(now_us);  // a repair: not a propagation sample
  }
  return out;
}

absl::StatusOr<DigestResponse> ReplicaStore::Digests(const DigestRequest& request) {
  if (request.buckets() == 0 || request.buckets() > 65536)
    return absl::InvalidArgumentError("buckets must be in 1..65536");
  DigestResponse response;
  for (auto& row : namespaces_.AllRows()) *response.add_namespace_rows() = std::move(row);
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it = db_.NewIterator(db_.key_index(), options);
  kv::replication::v1::NamespaceDigest* current = nullptr;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    if (key.size() < kNamespaceIdBytes) continue;
    const absl::string_view ns = key.substr(0, kNamespaceIdBytes);
    const absl::string_view user_key = key.substr(kNamespaceIdBytes);
    absl::StatusOr<RecordHeader> header =
        DecodeRecordHeader(absl::string_view(it->value().data(), it->value().size()));
    if (!header.ok() ||
        OutOfDigest(*header, request.expired_before(), request.tombstones_before_ms()))
      continue;
    if (current == nullptr || current->namespace_id() != ns) {
      current = response.add_namespaces();
      current->set_namespace_id(std::string(ns));
      current->mutable_bucket_hashes()->Resize(static_cast<int>(request.buckets()), 0);
    }
    const uint32_t bucket = BucketOf(user_key, request.buckets());
    current->set_bucket_hashes(static_cast<int>(bucket),
                               current->bucket_hashes(static_cast<int>(bucket)) +
                                   RecordHash(user_key, *header));
  }
  KV_RETURN_IF_ERROR(RocksDb::IteratorStatus(*it));
  return response;
}

absl::StatusOr<BucketKeysResponse> ReplicaStore::BucketKeys(const BucketKeysRequest& request) {
  if (request.buckets() == 0 || request.buckets() > 65536 ||
      request.namespace_id().size() != kNamespaceIdBytes)
    return absl::InvalidArgumentError("bad buckets or namespace_id");
  // The buckets asked for, as a bitmap.
  std::vector<bool> wanted(request.buckets(), false);
  if (request.bucket_set_size() == 0) {
    if (request.bucket() >= request.buckets())
      return absl::InvalidArgumentError("bucket must be below buckets");
    wanted[request.bucket()] = true;
  }
  for (uint32_t bucket : request.bucket_set()) {
    if (bucket >= request.buckets())
      return absl::InvalidArgumentError("every bucket_set entry must be below buckets");
    wanted[bucket] = true;
  }
  BucketKeysResponse response;
  response.set_paged(true);
  const std::string end = NamespaceTable::RecordsEnd(request.namespace_id());
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it = db_.NewIterator(db_.key_index(), options);
  if (request.start_after().empty()) {
    it->Seek(NamespaceTable::RecordsBegin(request.namespace_id()));
  } else {
    // The successor of start_after: the same key with a NUL byte appended.
    std::string first = RecordStore::RecordKey(request.namespace_id(), request.start_after());
    first.push_back('\0');
    it->Seek(first);
  }
  for (; it->Valid(); it->Next()) {
    const absl::string_view user_key =
        absl::string_view(it->key().data(), it->key().size()).substr(kNamespaceIdBytes);
    if (!request.until().empty() && user_key > request.until()) break;
    if (!wanted[BucketOf(user_key, request.buckets())]) continue;
    absl::StatusOr<RecordHeader> header =
        DecodeRecordHeader(absl::string_view(it->value().data(), it->value().size()));
    if (!header.ok() ||
        OutOfDigest(*header, request.expired_before(), request.tombstones_before_ms()))
      continue;
    if (request.max_keys() != 0 && static_cast<uint32_t>(response.keys_size()) == request.max_keys())
      return response;  // a key follows the page: not complete
    kv::replication::v1::KeyVersion* kv = response.add_keys();
    kv->set_key(std::string(user_key));
    header->version.ToProto(kv->mutable_version());
  }
  KV_RETURN_IF_ERROR(RocksDb::IteratorStatus(*it));
  response.set_complete(true);
  return response;
}

}  // namespace kv::central
