#ifndef KV_EDGE_REVALIDATOR_H_
#define KV_EDGE_REVALIDATOR_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "edge/central_pool.h"
#include "edge/edge_metrics.h"
#include "edge/fetcher.h"
#include "edge/lru_cache.h"
#include "edge/stream_state.h"
#include "proto/invalidation.grpc.pb.h"

namespace kv::edge {

struct RevalidatorOptions {
  // "Bearer <edge token>" (the Revalidate call needs an edge token); empty
  // against dev-mode centrals.
  std::string authorization;
  // Keys per Revalidate call (the central takes at most 1000). Default: 1000.
  int batch_keys = 1000;
  // Pause before retrying when no central answered. Default: 200 ms.
  absl::Duration retry_backoff = absl::Milliseconds(200);
};

// Brings a cache that lost its proof of completeness back into service
// without clearing it (DESIGN §4.3, issue 9). When the stream cannot resume
// (or shows a gap), DistrustCache() marks every entry cached so far as
// unproven (StreamState::distrusted_before): reads do not serve such an
// entry but revalidate it with a central one by one. Meanwhile a worker
// thread asks the centrals, in batches of keys, for the current version of
// every unproven entry: an entry still current (the central holds no newer
// version) is marked revalidated as of when the batch was sent and is
// served again; one that changed is dropped. An entry replaced or dropped by
// the stream in the meantime is left alone (the stream's change is newer).
// A later loss of continuity restarts the pass. Thread-safe.
class Revalidator {
 public:
  // All references must outlive the revalidator.
  Revalidator(const RevalidatorOptions& options, CentralPool& pool, LruCache& cache,
              Fetcher& fetcher, StreamState& state, EdgeMetrics& metrics, Clock& clock);
  ~Revalidator();

  void Start();
  void Stop();

  // Every entry cached before now is unproven until revalidated.
  void DistrustCache() ABSL_LOCKS_EXCLUDED(mu_);

  // True when no pass is pending or running (for tests and logs).
  bool idle() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run();
  // Revalidates what was cached before `distrust`. Returns false when a
  // central did not answer (the pass is retried).
  bool Pass(absl::Duration distrust);
  absl::Status RevalidateBatch(const std::vector<CachedEntryRef>& batch);

  const RevalidatorOptions options_;
  CentralPool& pool_;
  LruCache& cache_;
  Fetcher& fetcher_;
  StreamState& state_;
  EdgeMetrics& metrics_;
  Clock& clock_;
  std::vector<std::unique_ptr<kv::v1::Invalidation::Stub>> stubs_;

  mutable absl::Mutex mu_;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace kv::edge

#endif  // KV_EDGE_REVALIDATOR_H_
