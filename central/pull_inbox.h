#ifndef KV_CENTRAL_PULL_INBOX_H_
#define KV_CENTRAL_PULL_INBOX_H_

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/replication.pb.h"

namespace kv::central {

// The hand-off between the thread that reads a Pull stream and the thread
// that applies it (PeerPuller): messages (batches, heartbeats) queue in
// arrival order, and the applier takes everything queued at once, so the
// batches that arrived during one apply (one WAL sync) share the next.
//
// Guarantees: TakeAll returns messages in the order pushed, each once; the
// queued bytes stay under `max_bytes` except that one message is always
// accepted into an empty inbox (so memory is bounded by max_bytes plus one
// message, and a full inbox stops the reader, which lets gRPC flow control
// slow the source). Thread-safe: one producer and one consumer.
class PullInbox {
 public:
  struct Received {
    kv::replication::v1::PullResponse message;
    // This node's wall clock when it arrived.
    absl::Time received_at;
  };

  explicit PullInbox(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Queues `message`, blocking while the inbox is full. False (nothing
  // queued) once the inbox has failed.
  bool Push(kv::replication::v1::PullResponse message, absl::Time received_at)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The producer is done: TakeAll returns what is queued, then nullopt.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);
  // Either side gives up (the first reason is kept): Push returns false and
  // TakeAll nullopt from now on; what is queued is dropped.
  void Fail(std::string why) ABSL_LOCKS_EXCLUDED(mu_);

  // Makes the consumer's current or next TakeAll return at once (empty
  // when nothing is queued): it has something else to do.
  void Nudge() ABSL_LOCKS_EXCLUDED(mu_);

  // Everything queued, waiting up to `timeout` for a first message or a
  // Nudge (empty on timeout or nudge). nullopt once closed and drained, or
  // failed.
  std::optional<std::vector<Received>> TakeAll(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  // The reason given to Fail; empty when it was not called.
  std::string why() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  std::deque<Received> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool nudged_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  std::string why_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::central

#endif  // KV_CENTRAL_PULL_INBOX_H_
