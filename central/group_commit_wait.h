#ifndef KV_CENTRAL_GROUP_COMMIT_WAIT_H_
#define KV_CENTRAL_GROUP_COMMIT_WAIT_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace kv::central {

// Whether the central's poller should wait for more writes before it
// commits a group: group commit with "siblings", as PostgreSQL's
// commit_delay / commit_siblings, made safe to leave on.
//
// Why: with a few clients that write in a closed loop (the next write as
// soon as the previous one is answered), one poller and one WAL sync at a
// time, the clients split into groups that take turns: with 4 writers, two
// groups of 2, each waiting for the other's sync. Waiting for the clients
// that were just answered merges them into one group, one sync per round.
//
// Rule: a client (a gRPC peer: one connection) is active when it sent a
// write within `active_within`. Expected() is the number of active clients
// with no write at the central right now: their next write would join the
// group. The poller waits while that is above 0, up to `max_wait`, and
// reports how the wait ended (OnWaitEnded). A wait that times out means the
// clients do not come back that fast (an open loop, think time, a client
// that stopped): the next waits are off for 10 ms, doubling with every
// further timeout up to 1 s, and a wait that completes resets that. So
// clients writing at random times cost at most one `max_wait` per backoff
// period, and a single writer never waits (it is at the central). The
// poller (AsyncKvServer) asks only while its group holds fewer than 8
// writes: larger groups already share their sync well.
//
// Memory is bounded: clients not seen for a second are forgotten, and with
// more than `max_clients` the tracker expects nobody (so many clients are
// not a few closed loops).
//
// Thread-safe: writes are answered on whichever thread completes them.
class GroupCommitWait {
 public:
  struct Options {
    // Longest wait. Zero disables the tracker (Expected() is always 0).
    absl::Duration max_wait = absl::Microseconds(200);
    absl::Duration active_within = absl::Milliseconds(10);
    size_t max_clients = 256;
  };
  explicit GroupCommitWait(const Options& options);

  GroupCommitWait(const GroupCommitWait&) = delete;
  GroupCommitWait& operator=(const GroupCommitWait&) = delete;

  bool enabled() const { return options_.max_wait > absl::ZeroDuration(); }
  absl::Duration max_wait() const { return options_.max_wait; }

  // A write of `client` arrived / was answered.
  void OnArrival(absl::string_view client, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  void OnAnswer(absl::string_view client) ABSL_LOCKS_EXCLUDED(mu_);

  // Active clients with no write at the central (0 while backed off).
  int Expected(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  // The end of a wait: `complete` when Expected() reached 0 before
  // max_wait passed.
  void OnWaitEnded(bool complete, absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);


 private:
  struct Client {
    int in_flight = 0;
    absl::Time last_write = absl::InfinitePast();
  };

  // Forgets clients not seen for a second (at most once a second).
  void PruneLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Client> clients_ ABSL_GUARDED_BY(mu_);
  absl::Time last_prune_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int timeouts_in_a_row_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time backoff_until_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace kv::central

#endif  // KV_CENTRAL_GROUP_COMMIT_WAIT_H_
