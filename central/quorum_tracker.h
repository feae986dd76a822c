#ifndef KV_CENTRAL_QUORUM_TRACKER_H_
#define KV_CENTRAL_QUORUM_TRACKER_H_

#include <cstdint>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kv::central {

// How far each peer has durably applied this central's change log (the acks
// of its Pull streams), and the writes waiting for a quorum of them.
//
// Waiting holds no thread: a waiter is (sequence, peers needed, deadline,
// callback). OnAck answers the waiters it completes; one timer thread
// answers those whose deadline passes; Shutdown answers all the rest.
//
// Guarantees:
//  - every waiter's callback runs exactly once, never with the tracker's
//    lock held: kReached once `needed` peers have acked its sequence (at
//    once when they already have), kDeadline at its deadline (at once when
//    it has passed already: the deadline is absolute, so a caller can make
//    it run from an earlier event such as the local commit), kShutdown at
//    or after Shutdown — none is dropped;
//  - the callback is given how many peers have the sequence, capped at
//    `needed`.
// Sequences only grow (one log incarnation per process). Thread-safe.
class QuorumTracker {
 public:
  enum class Outcome { kReached, kDeadline, kShutdown };
  using Callback = absl::AnyInvocable<void(Outcome outcome, size_t peers) &&>;

  QuorumTracker();
  // Shutdown, then joins the timer.
  ~QuorumTracker();
  QuorumTracker(const QuorumTracker&) = delete;
  QuorumTracker& operator=(const QuorumTracker&) = delete;

  // Peer `peer_id` has every entry up to `sequence` durably. Runs the
  // callbacks of the waiters this completes on the calling thread.
  void OnAck(uint32_t peer_id, uint64_t sequence) ABSL_LOCKS_EXCLUDED(mu_);
  // Calls `done` once `needed` peers have acked `sequence`, or at
  // `deadline`, or at shutdown (see the guarantees). May call it before
  // returning, on the calling thread.
  void WaitAsync(uint64_t sequence, size_t needed, absl::Time deadline, Callback done)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Blocking form: how many peers have `sequence` (capped at `needed`) once
  // `needed` have, or at `deadline`, or at shutdown.
  size_t WaitFor(uint64_t sequence, size_t needed, absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_);
  // Answers every waiter with kShutdown now, and every later one at once.
  // Acks are still recorded.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t Acked(uint32_t peer_id) const ABSL_LOCKS_EXCLUDED(mu_);
  // Waiters not answered yet.
  size_t waiting() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Waiter {
    uint64_t sequence;
    size_t needed;
    absl::Time deadline;
    Callback done;
  };
  struct Answer {
    Callback done;
    Outcome outcome;
    size_t peers;
  };

  size_t CountAtLeast(uint64_t sequence) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The highest sequence at least `needed` peers have acked (0: none).
  uint64_t QuorumSequence(size_t needed) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Removes waiter `id` from every index; returns its answer.
  Answer Take(uint64_t id, Outcome outcome) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TimerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  static void Run(std::vector<Answer>& answers);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint32_t, uint64_t> acked_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  // (needed, sequence, id): per number of peers needed, by sequence.
  std::set<std::tuple<size_t, uint64_t, uint64_t>> by_sequence_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<absl::Time, uint64_t>> by_deadline_ ABSL_GUARDED_BY(mu_);
  // Bumped when the earliest deadline moves earlier (wakes the timer).
  uint64_t timer_changes_ ABSL_GUARDED_BY(mu_) = 0;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  std::thread timer_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_QUORUM_TRACKER_H_
