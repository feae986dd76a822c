#ifndef KV_EDGE_STREAM_CLIENT_H_
#define KV_EDGE_STREAM_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "edge/central_pool.h"
#include "edge/edge_metrics.h"
#include "edge/fetcher.h"
#include "edge/lru_cache.h"
#include "edge/namespace_directory.h"
#include "edge/revalidator.h"
#include "edge/stream_state.h"
#include "proto/invalidation.grpc.pb.h"

namespace kv::edge {

struct StreamClientOptions {
  // Names this edge in the centrals' logs. Default: empty.
  std::string edge_id;
  // "Bearer <edge token>" for Subscribe; empty against dev-mode centrals.
  std::string authorization;
  // A stream silent (no heartbeat) for this long is dropped and
  // re-established, on the next central if need be. Default: 3 s.
  absl::Duration silence_timeout = absl::Seconds(3);
  // Pause between failed attempts. Default: 100 ms.
  absl::Duration retry_backoff = absl::Milliseconds(100);
  // A failover to another central resumes by its apply time from the last
  // complete_as_of heard, minus these (DESIGN §4.3): the largest clock
  // difference between centrals and their write deadline (a write
  // acknowledged late may have been applied early). Defaults: 500 ms, 5 s.
  absl::Duration max_clock_offset = absl::Milliseconds(500);
  absl::Duration write_deadline = absl::Seconds(5);
};

// Keeps one invalidation stream open to a central (the pool's preferred
// one, failing over in order) and applies its events to the cache:
// a cached key with an older version is refreshed in place when the value
// rides along, else dropped; a namespace deletion drops the namespace. When
// the edge cannot prove it missed nothing (the central does not resume at
// the edge's position, or sequences have a gap) it has the Revalidator
// check every cached entry against a central instead of clearing the cache.
// A failover to another central resumes by time (the new central replays
// what it applied since the edge's last proof of completeness), so a warm
// cache survives the switch without even that.
// Start() spawns the stream thread and a watchdog; Stop() cancels and joins.
// The stream's events are collected by the thread polling `events` (the
// edge's server queue; see cq_stream_reader.h), so Stop() must come before
// that queue is shut down.
class StreamClient {
 public:
  // All references must outlive the client.
  StreamClient(const StreamClientOptions& options, CentralPool& pool, LruCache& cache,
               Fetcher& fetcher, Revalidator& revalidator, NamespaceDirectory& directory,
               StreamState& state, EdgeMetrics& metrics, Clock& clock);
  ~StreamClient();

  void Start(grpc::CompletionQueue* events);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  void Watchdog();
  // One subscription to central `index`, until it ends. Returns true when it
  // connected (so the next attempt may retry the same central).
  bool SubscribeOnce(size_t index);
  void Apply(const kv::v1::ChangeEvent& event, bool live);
  // Marks the cache for revalidation (never clears it).
  void LoseContinuity(absl::string_view reason);

  const StreamClientOptions options_;
  CentralPool& pool_;
  LruCache& cache_;
  Fetcher& fetcher_;
  Revalidator& revalidator_;
  NamespaceDirectory& directory_;
  StreamState& state_;
  EdgeMetrics& metrics_;
  Clock& clock_;
  std::vector<std::unique_ptr<kv::v1::Invalidation::Stub>> stubs_;
  grpc::CompletionQueue* events_ = nullptr;

  absl::Notification stop_;
  absl::Mutex mu_;
  grpc::ClientContext* current_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Monotonic time the current attempt started (its Hello is awaited).
  absl::Duration attempt_start_ ABSL_GUARDED_BY(mu_);
  // Set by the watchdog when it cancelled a silent stream: the next attempt
  // goes to the next central instead of the silent one.
  bool cancelled_silent_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
  std::thread watchdog_;
};

}  // namespace kv::edge

#endif  // KV_EDGE_STREAM_CLIENT_H_
