#ifndef KV_TOOLS_FAULTPROXY_LINK_STATE_H_
#define KV_TOOLS_FAULTPROXY_LINK_STATE_H_

// What a link shares with its connections: the current faults and the
// counters. Thread-safe: faults under a mutex (connections copy them once
// per loop turn), counters atomic. Shared (shared_ptr) so a connection that
// outlives a removed link still has somewhere to count.

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tools/faultproxy/faults.h"

namespace kv::faultproxy {

struct LinkCounters {
  // Bytes written on towards the target (up) and towards the client (down).
  std::atomic<uint64_t> bytes_up{0};
  std::atomic<uint64_t> bytes_down{0};
  // Bytes read and thrown away by a "drop" fault.
  std::atomic<uint64_t> dropped_bytes_up{0};
  std::atomic<uint64_t> dropped_bytes_down{0};
  // Connections accepted on the listener.
  std::atomic<uint64_t> connections_accepted{0};
  // Connections ended by a reset request (RST to both sides).
  std::atomic<uint64_t> connections_reset{0};
  // Accepted connections reset because no target was set, or because the
  // connect to the target failed.
  std::atomic<uint64_t> rejected_no_target{0};
  std::atomic<uint64_t> upstream_connect_failures{0};
};

class LinkState {
 public:
  explicit LinkState(size_t max_queued_bytes) : max_queued_bytes_(max_queued_bytes) {}

  LinkFaults faults() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return faults_;
  }
  void set_faults(const LinkFaults& faults) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    faults_ = faults;
  }
  // Bytes one direction of a connection may hold (delayed or blackholed)
  // before it stops reading from its source.
  size_t max_queued_bytes() const { return max_queued_bytes_; }
  LinkCounters& counters() { return counters_; }

 private:
  mutable absl::Mutex mu_;
  LinkFaults faults_ ABSL_GUARDED_BY(mu_);
  const size_t max_queued_bytes_;
  LinkCounters counters_;
};

}  // namespace kv::faultproxy

#endif  // KV_TOOLS_FAULTPROXY_LINK_STATE_H_
