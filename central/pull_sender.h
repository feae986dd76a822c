#ifndef KV_CENTRAL_PULL_SENDER_H_
#define KV_CENTRAL_PULL_SENDER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "central/change_log.h"
#include "central/quorum_tracker.h"
#include "central/relay_origins.h"
#include "central/replica_store.h"
#include "proto/replication.pb.h"

namespace prometheus {
class Counter;
}

namespace kv::central {

struct PullSenderOptions {
  // This central (the source) and the peer pulling from it.
  uint32_t node_id = 1;
  uint32_t peer_id = 2;
  // A heartbeat goes out at least this often. Default: 1 s.
  absl::Duration heartbeat_interval = absl::Seconds(1);
  // Bounds of one batch. Defaults: 1,000 entries, 8 MiB of values (a single
  // larger value goes alone).
  size_t batch_entries = 1000;
  size_t batch_bytes = size_t{8} << 20;
  // Batches sent and not yet acked, at most. Default: 4.
  size_t batches_in_flight = 4;
  // A batch holding none of this central's own writes (entries it received
  // from other centrals, and NOOPs for the peer's own) waits up to this long
  // for more entries before it goes: no client waits on it, and it would
  // otherwise cost the peer a message and an apply per commit here.
  // Default: 20 ms.
  absl::Duration relay_linger = absl::Milliseconds(20);
  // Whether this peer is one of those the write quorum is counted on now
  // (see ReplicationService). A batch with this central's own writes goes
  // at once to such a peer; to another it gathers entries for up to
  // `follower_linger`, so a peer whose ack is not needed applies (and
  // syncs) fewer, larger batches. Unset: every peer is.
  std::function<bool()> quorum_peer;
  // Default: 5 ms.
  absl::Duration follower_linger = absl::Milliseconds(5);
  // What heartbeats advertise as holds_all_until (Replicator::HoldsAllUntil);
  // unset or InfinitePast = nothing.
  std::function<absl::Time()> holds_all_until;
  // Where this central's replicated entries came from; with the peer's
  // PullHoldings (OnHoldings), entries the peer already holds go as NOOPs.
  // Unset: every entry goes whole.
  const RelayOrigins* origins = nullptr;
  // Counts the entries sent as NOOPs because the peer held them. Optional.
  prometheus::Counter* relays_left_out = nullptr;
};

// The sending half of one Pull stream at the source (proto/replication.proto):
// reads the change log from a start sequence, fills each PUT with its value,
// turns the peer's own writes into NOOPs, and writes batches and heartbeats.
//
// When a batch goes: one holding a write this central accepted (a client is
// waiting for the peer's ack) goes to a quorum peer as soon as fewer than
// `batches_in_flight` batches are unacked, so the peer can apply batch k+1
// while the ack of batch k travels; to another peer it gathers entries for
// up to `follower_linger`; batches without such writes gather entries for
// up to `relay_linger` (or until full, or a heartbeat is due). A gathering
// batch is not woken by every commit, only by the events that can make it
// go sooner (acks, and this central's own writes for a quorum peer).
//
// An entry this central received from another central goes as a NOOP (its
// sequence only) when the peer has said it holds it (PullHoldings: the
// source log, incarnation and sequences the entry came in with, per
// `origins`), decided when its batch goes, so holdings that arrive during
// the relay linger count. The peer's completeness is unaffected: what it
// is not sent it holds already.
//
// Guarantees: entries go out in sequence order without gaps, starting at
// `next`; a heartbeat's head_sequence is the last entry already written, and
// its sent_as_of_us a time before which every entry applied here is at or
// before head_sequence (so the peer's completeness never runs ahead of what
// was sent, however long entries wait).
// Thread-safe: Run on one thread, OnAck/OnReaderDone from another (the ack
// reader). Run blocks until the stream ends.
class PullSender {
 public:
  // What Run writes to (the gRPC stream; a fake in tests). Write returns
  // false once the peer has gone away.
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual bool Write(const kv::replication::v1::PullResponse& response) = 0;
  };

  // `log`, `replica` and `tracker` must outlive the sender.
  PullSender(const PullSenderOptions& options, ChangeLog& log, ReplicaStore& replica,
             QuorumTracker& tracker, uint64_t next);

  // Streams until the sink fails, the ack reader is done, or `stop()` is
  // true (checked at least every 100 ms). Returns CANCELLED when the peer
  // went away, UNAVAILABLE when stopped, or the error reading the log
  // (OUT_OF_RANGE when the log was trimmed past the stream's position).
  absl::Status Run(Sink& sink, const std::function<bool()>& stop) ABSL_LOCKS_EXCLUDED(mu_);

  // The peer has every entry up to `sequence` durably (counted for the
  // write quorum; acks beyond what was sent are capped).
  void OnAck(uint64_t sequence) ABSL_LOCKS_EXCLUDED(mu_);
  // The peer's half of the stream has ended.
  void OnReaderDone() ABSL_LOCKS_EXCLUDED(mu_);
  // The peer's latest PullHoldings (each replaces the previous).
  void OnHoldings(const kv::replication::v1::PullHoldings& holdings) ABSL_LOCKS_EXCLUDED(mu_);

  // The last sequence Run had read from the log when it last went to sleep:
  // each entry up to it was sent or is being held on purpose (a test waits
  // on this before checking that nothing was sent).
  uint64_t settled_through() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Moves entries from the log into pending_ (up to the batch bounds).
  absl::Status ReadPending(absl::Time now);
  bool SendPending(Sink& sink) ABSL_LOCKS_EXCLUDED(mu_);
  // Turns the pending entries the peer holds into NOOPs; returns how many.
  size_t LeaveOutHeld() ABSL_LOCKS_EXCLUDED(mu_);

  const PullSenderOptions options_;
  ChangeLog& log_;
  ReplicaStore& replica_;
  QuorumTracker& tracker_;

  // Run's own state.
  uint64_t next_;  // the next sequence to read from the log
  kv::replication::v1::PullResponse pending_;
  size_t pending_bytes_ = 0;
  bool pending_own_ = false;  // holds one of this central's own writes
  absl::Time pending_since_;
  // The last time the log had been read to its end and all of it sent
  // (every entry applied before it is at or before the sent sequence).
  absl::Time sent_as_of_ = absl::InfinitePast();

  mutable absl::Mutex mu_;
  // What Run waits on: acks that open a full window and the reader's end
  // (events_), commits of this
  // central's own writes (own_commits_) and of replicated entries
  // (relay_commits_).
  uint64_t events_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t own_commits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t relay_commits_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t sent_through_ ABSL_GUARDED_BY(mu_);
  // The last sequence of each batch sent and not yet acked.
  std::deque<uint64_t> in_flight_ ABSL_GUARDED_BY(mu_);
  bool reader_done_ ABSL_GUARDED_BY(mu_) = false;
  // By source node id.
  absl::flat_hash_map<uint32_t, kv::replication::v1::SourceHoldings> holdings_ ABSL_GUARDED_BY(mu_);
  uint64_t settled_through_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_PULL_SENDER_H_
