#ifndef KV_CENTRAL_IDLE_SPIN_H_
#define KV_CENTRAL_IDLE_SPIN_H_

#include "absl/time/time.h"

namespace kv::central {

// Whether the central's poller, out of work, should poll its completion
// queue without blocking for a while before it sleeps: Seastar's
// idle-poll, kept to the case where it pays.
//
// Why: a thread that sleeps in poll(2) is woken by the kernel when a
// request arrives, and in a VM that wake-up is an inter-processor interrupt
// and a halted vCPU brought back: tens of microseconds on the latency of
// every request of a client that writes in a closed loop, and CPU on the
// sender's side too (it pays for the wake-up). A poller that is still
// polling when the request arrives sees it at once, and the sender wakes
// nobody. One writer at one central: 415 -> 358 us p50 per durable put
// (docs/write-path.md, "Polling before sleeping").
//
// Rule: the poller spins (up to `window`) only when its previous idle
// period, from running out of work to the next event, was no longer than
// `window`: requests are coming back that fast. A wrong guess costs at most
// one window of CPU, and only right after a short idle period, so a node
// whose requests arrive sparsely (think time, an idle cluster) never spins,
// and a busy one spins only in the gaps of a closed loop. A zero window
// turns spinning off.
//
// Not thread-safe: one per polling thread.
class IdleSpin {
 public:
  explicit IdleSpin(absl::Duration window) : window_(window) {}

  absl::Duration window() const { return window_; }

  // Whether to spin before blocking, this time.
  bool ShouldSpin() const {
    return window_ > absl::ZeroDuration() && last_idle_ <= window_;
  }

  // The idle period that just ended: from running out of work to the next
  // event, spinning and blocking together.
  void OnIdleEnded(absl::Duration idle) { last_idle_ = idle; }

 private:
  const absl::Duration window_;
  absl::Duration last_idle_ = absl::InfiniteDuration();
};

}  // namespace kv::central

#endif  // KV_CENTRAL_IDLE_SPIN_H_
