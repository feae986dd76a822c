#ifndef KV_COMMON_DEADLOCK_DETECTION_H_
#define KV_COMMON_DEADLOCK_DETECTION_H_

namespace kv {

// Debian's abseil 20220623 is built without NDEBUG, so by default every
// absl::Mutex lock and unlock (ours and gRPC's, a dozen per RPC) runs
// abseil's deadlock detector: a process-wide lock-order graph behind one
// spin lock. On the build VM a pair of nested locks costs 56.7 ns with it
// and 12.6 ns without; creating, locking and destroying a Mutex 58 vs
// 22 ns; and every thread of the process meets at that spin lock.
//
// The binaries (kv-central, kv-edge, kvctl, kv-faultproxy, kv-bench) call
// this first thing in main to turn the detector off; tests never do, so
// the unit and integration tests keep catching lock-order inversions.
// KV_MUTEX_DEADLOCK_DETECTION=1 in the environment keeps it on (debugging
// a binary). Call before starting threads.
void ConfigureMutexDeadlockDetection();

}  // namespace kv

#endif  // KV_COMMON_DEADLOCK_DETECTION_H_
