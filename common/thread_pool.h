#ifndef KV_COMMON_THREAD_POOL_H_
#define KV_COMMON_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace kv {

// Names the calling thread (at most 15 characters; longer names are cut)
// for top, perf and debuggers.
void NameThisThread(const char* name);

// A fixed set of threads running submitted tasks in order of submission,
// for work that may block (disk reads, calls to other nodes, waits for a
// write quorum) handed off by threads that must not (completion-queue
// pollers, commit leaders). Thread-safe. The destructor runs the tasks
// still queued, then joins; Submit after it has started is a bug.
class ThreadPool {
 public:
  // `name` (at most 15 characters) names the threads for profilers.
  explicit ThreadPool(int threads, const char* name = "kv-pool");
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace kv

#endif  // KV_COMMON_THREAD_POOL_H_
