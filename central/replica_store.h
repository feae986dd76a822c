#ifndef KV_CENTRAL_REPLICA_STORE_H_
#define KV_CENTRAL_REPLICA_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "central/commit_queue.h"
#include "central/namespace_table.h"
#include "central/relay_origins.h"
#include "central/rocks_db.h"
#include "common/clock.h"
#include "proto/replication.pb.h"
#include "proto/storage.pb.h"

namespace kv::central {

// Where this central stands in a peer's change log.
struct PeerProgress {
  std::string incarnation;
  uint64_t sequence = 0;
};

// The replication side of a central's storage (DESIGN §4.2): applies
// mutations received from peers by last writer wins, reads records as
// replication entries, and computes the digests anti-entropy compares.
//
// Guarantees:
//  - a replicated PUT/DELETE is applied only when its version is newer than
//    the stored record's (tombstones included) and the namespace was not
//    deleted at or after it; applied entries get local change-log sequences
//    (so this central's edges are invalidated), skipped ones do not;
//  - the applied entries and the peer's progress are written in one synced
//    batch, so a restart resumes exactly after what is durable;
//  - digests and bucket listings leave out records expired before the
//    requester's cut-off and tombstones older than its tombstone cut-off,
//    so replicas that purge at different times agree.
// Thread-safe. Calls block on disk I/O.
class ReplicaStore {
 public:
  // All references must outlive the store. Applied PUTs keep their value in
  // the local change log up to `inline_value_bytes` (as local writes do).
  ReplicaStore(RocksDb& db, CommitQueue& queue, NamespaceTable& namespaces, Clock& clock,
               size_t inline_value_bytes);

  // Applies `entries` (PUT, DELETE and namespace kinds, each with its
  // version; PUTs with value_included) and, when given, records `progress`
  // for `peer_id` in the same batch. Returns how many were applied. With
  // `progress` and a `first_sequence`, the entries are `peer_id`'s log
  // (incarnation progress->incarnation) from first_sequence through
  // progress->sequence, and relay_origins() learns so.
  absl::StatusOr<size_t> Apply(std::vector<kv::storage::v1::ChangeEntry> entries,
                               uint32_t peer_id, const std::optional<PeerProgress>& progress,
                               uint64_t first_sequence = 0);

  // Where recent replicated entries of this central's log came from.
  RelayOrigins& relay_origins() { return relay_origins_; }

  // The progress recorded for a peer (empty incarnation when none).
  absl::StatusOr<PeerProgress> GetPeerProgress(uint32_t peer_id);

  // Makes a PUT entry carry its value: one whose value rode along in the log
  // is complete as it is; otherwise it is replaced by the record as stored
  // now (its version is at least the entry's: kind, version, value,
  // metadata, expiration). A key no longer stored (its namespace deleted)
  // becomes a NOOP. DELETE entries are complete as they are.
  absl::Status FillFromStore(kv::storage::v1::ChangeEntry& entry);

  // The stored records (tombstones included) of `keys`, as PUT/DELETE
  // entries; missing keys are left out.
  absl::StatusOr<std::vector<kv::storage::v1::ChangeEntry>> Fetch(
      absl::string_view namespace_id, const std::vector<std::string>& keys);

  // Per-namespace bucket digests of every stored record, and every
  // namespace row.
  absl::StatusOr<kv::replication::v1::DigestResponse> Digests(
      const kv::replication::v1::DigestRequest& request);
  // The (key, version) pairs, in key order, of one namespace's keys in the
  // requested buckets (bucket_set, else bucket) and key range (start_after,
  // until], at most max_keys of them (`complete` false when more follow).
  // Reads the key index once, whatever the number of buckets.
  absl::StatusOr<kv::replication::v1::BucketKeysResponse> BucketKeys(
      const kv::replication::v1::BucketKeysRequest& request);

  // The bucket of a key; stable across processes and machines.
  static uint32_t BucketOf(absl::string_view key, uint32_t buckets);

  // True on a thread inside Apply's commit. Apply's commits are groups of
  // their own, led by the applying thread, so a change-log listener called
  // with this true has been given replicated entries only (no local write).
  static bool CommittingReplicated();

 private:
  RocksDb& db_;
  CommitQueue& queue_;
  NamespaceTable& namespaces_;
  Clock& clock_;
  const size_t inline_value_bytes_;
  RelayOrigins relay_origins_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_REPLICA_STORE_H_
