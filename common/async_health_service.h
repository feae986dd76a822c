#ifndef KV_COMMON_ASYNC_HEALTH_SERVICE_H_
#define KV_COMMON_ASYNC_HEALTH_SERVICE_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/server_builder_option.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "proto/health.grpc.pb.h"

namespace kv {

// Serves grpc.health.v1.Health (Check and Watch) on a node's server
// completion queue (edge and central), in place of gRPC's default health
// service. The default one is a callback service, and in gRPC 1.51 (epoll1,
// no background poller) a callback service makes the server start "nexting"
// threads that poll the very connections the node's queue threads serve:
// requests were read on one thread and handed to another (docs/edge.md,
// docs/write-path.md).
//
// Semantics follow gRPC's default service: the whole server ("") is SERVING
// from the start; Check of a service never set is NOT_FOUND; Watch sends the
// status at once and again after every change (SERVICE_UNKNOWN for a service
// never set). After Shutdown() every service is NOT_SERVING, later changes
// are ignored, and open Watch streams are sent NOT_SERVING and finished with
// UNAVAILABLE, so that the server's shutdown does not wait for them.
//
// Thread-safe: SetServingStatus and Shutdown from any thread; the calls
// proceed on the queue's polling threads (tags are CompletionTags). Register
// service() and BuilderOption() with the ServerBuilder, then Start(cq) after
// BuildAndStart. Must outlive the server and the draining of the queue.
class AsyncHealthService {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  AsyncHealthService();
  ~AsyncHealthService();
  AsyncHealthService(const AsyncHealthService&) = delete;
  AsyncHealthService& operator=(const AsyncHealthService&) = delete;

  grpc::health::v1::Health::AsyncService* service() { return &service_; }
  // Makes the server's GetHealthCheckService() this object (and keeps the
  // server from starting its default service). One per server.
  std::unique_ptr<grpc::ServerBuilderOption> BuilderOption();
  // Accepts calls on `cq` (which must outlive the calls).
  void Start(grpc::ServerCompletionQueue* cq);

  void SetServingStatus(const std::string& service, bool serving) ABSL_LOCKS_EXCLUDED(mu_);
  // Every service set so far.
  void SetServingStatus(bool serving) ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  // SERVICE_UNKNOWN for a service never set.
  ServingStatus StatusOf(const std::string& service) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class CheckCall;
  class WatchCall;

  ServingStatus StatusOfLocked(const std::string& service) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Lets every open Watch catch up with the statuses.
  void NotifyWatchesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::health::v1::Health::AsyncService service_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, ServingStatus> statuses_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<WatchCall*> watches_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv

#endif  // KV_COMMON_ASYNC_HEALTH_SERVICE_H_
