#ifndef KV_CENTRAL_ANTI_ENTROPY_H_
#define KV_CENTRAL_ANTI_ENTROPY_H_

#include <grpcpp/security/credentials.h>

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "central/peer_set.h"
#include "central/replica_store.h"
#include "proto/replication.grpc.pb.h"

namespace kv::central {

struct AntiEntropyOptions {
  // Node credentials for peers; empty in dev mode.
  std::string token;
  // How peers are dialled (mutual TLS, common/tls.h). Default: plain text.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // A round with every peer this often (and at once with a peer that could
  // not resume our replication stream). Default: 10 s.
  absl::Duration interval = absl::Seconds(10);
  // Digest buckets per namespace. Default: 256.
  uint32_t buckets = 256;
  // Tombstones older than tombstone_grace minus a margin are left out of
  // digests (they may be purged on either side). Default: 24 h.
  absl::Duration tombstone_grace = absl::Hours(24);
  // Deadline of each RPC. Default: 30 s.
  absl::Duration rpc_timeout = absl::Seconds(30);
  // Periodic rounds take at most this share of the time: after a batch of
  // rounds that took T, the next starts max(interval, T * (1 - max_busy) /
  // max_busy) later (rounds asked for by RequestRound are not held back).
  // Values outside (0, 1) turn the bound off. Default: 0.05.
  double max_busy = 0.05;
  // Keys per BucketKeys page: bounds each answer (and what both sides hold
  // in memory for one comparison). Default: 10,000.
  uint32_t keys_per_page = 10000;
  // A time before which this central holds every write any central
  // applied (Replicator::HoldsAllUntil, or as kept across a restart:
  // holds_all_until_file.h), asked for every round. Digests also take in
  // the tombstones newer than it less catch_up_margin, however old: after
  // an absence or a partition longer than the grace, this central's peers'
  // logs no longer reach back to where it left off, and digests that left
  // out tombstones past the grace would never bring it the deletes it
  // missed (it would keep serving those records). Its peers still hold
  // them: no central purges a tombstone before every central holds it
  // (the purge horizon). Normally it is a moment ago and changes nothing.
  // Unset: nothing more; InfinitePast (not known yet): every tombstone.
  std::function<absl::Time()> holds_all_until;
  // Commits in flight and clock offsets around that time: the write
  // deadline plus twice the maximum clock offset. Default: 6 s.
  absl::Duration catch_up_margin = absl::Seconds(6);
};

// Anti-entropy (DESIGN §4.2): periodically compares per-namespace bucket
// digests with each peer, lists the keys of the buckets that differ (all of
// a namespace's at once, in pages of keys_per_page: one scan of its key
// index per page on each side, whatever the number of buckets) and pulls
// the records the peer holds newer (namespace rows too), applying them through
// the ReplicaStore (so they enter the change log and reach this central's
// edges). Pull only: each side repairs itself, so after a partition heals
// both converge within one round.
// Thread-safe; one background thread.
class AntiEntropy {
 public:
  // `on_round(peer_id, repaired, ok, started)` is called after every round
  // (`started`: when the round began).
  using RoundCallback = std::function<void(uint32_t, uint64_t, bool, absl::Time)>;
  AntiEntropy(const AntiEntropyOptions& options, const PeerSet& peers, ReplicaStore& replica,
              RoundCallback on_round);
  ~AntiEntropy();

  void Start();
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  // Runs a round with `peer_id` as soon as possible.
  void RequestRound(uint32_t peer_id) ABSL_LOCKS_EXCLUDED(mu_);
  // The digest request a round made now would send (tests).
  kv::replication::v1::DigestRequest NewDigestRequestForTesting() const {
    return NewDigestRequest();
  }
  // How long after a batch of periodic rounds that took `busy` the next
  // starts (see AntiEntropyOptions::max_busy).
  static absl::Duration PeriodicWait(absl::Duration interval, absl::Duration busy,
                                     double max_busy);
  // One round with a peer at `address`, against `local` (this central's
  // answer to `request`); returns the records repaired.
  absl::StatusOr<uint64_t> RunRound(uint32_t peer_id, const std::string& address,
                                    const kv::replication::v1::DigestRequest& request,
                                    const kv::replication::v1::DigestResponse& local);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Digests of what was not expired a minute ago and tombstones within the
  // grace (less a margin), at the current time; and the tombstones this
  // central may have missed (options_.holds_all_until).
  kv::replication::v1::DigestRequest NewDigestRequest() const;
  // Lists the keys of request.bucket_set() at the peer and here, page by
  // page, and fetches what the peer holds newer; returns the records
  // repaired.
  absl::StatusOr<uint64_t> RepairBuckets(kv::replication::v1::Replication::Stub& stub,
                                         uint32_t peer_id,
                                         kv::replication::v1::BucketKeysRequest request);
  // Compares `their_keys` with this side's keys of `range` and fetches the
  // records the peer holds newer.
  absl::StatusOr<uint64_t> FetchNewer(kv::replication::v1::Replication::Stub& stub,
                                      uint32_t peer_id,
                                      const kv::replication::v1::BucketKeysRequest& range,
                                      const kv::replication::v1::BucketKeysResponse& their_keys);
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  const AntiEntropyOptions options_;
  const PeerSet& peers_;
  ReplicaStore& replica_;
  const RoundCallback on_round_;

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<uint32_t> requested_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_ANTI_ENTROPY_H_
