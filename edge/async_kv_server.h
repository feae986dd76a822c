#ifndef KV_EDGE_ASYNC_KV_SERVER_H_
#define KV_EDGE_ASYNC_KV_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>

#include "common/request_metrics.h"
#include "common/thread_pool.h"
#include "common/async_health_service.h"
#include "edge/cq_call.h"
#include "edge/edge_kv_service.h"
#include "proto/kv.grpc.pb.h"

namespace kv::edge {

// Serves EdgeKvService and grpc.health.v1 over gRPC's completion-queue API,
// the cheapest per call, with one polling thread and no other thread polling
// the client connections (no callback service, no interceptor; the sync
// reflection service of a server with a completion queue gets non-polling
// queues):
//  - a Get the cache can answer is answered on the polling thread
//    (EdgeKvService::TryGetFromCache never blocks);
//  - every other call (a Get that needs a central, writes, lists,
//    namespace calls: all may wait on a central) runs on a worker pool and
//    is finished from there;
//  - every kv.v1.Kv call is counted in `metrics` (by operation and code,
//    timed from its arrival to its status) as the RequestMetrics
//    interceptor would, without the interceptor's extra queue round trips.
// RegisterWith(builder) and take the queue from the builder
// (AddCompletionQueue) before BuildAndStart; Start() after it. Shutdown():
// after the server's Shutdown(); finishes the workers' calls, drains the
// queue and joins. `handlers` and `metrics` must outlive this object.
class AsyncKvServer {
 public:
  AsyncKvServer(EdgeKvService& handlers, int worker_threads, RequestMetrics& metrics);
  ~AsyncKvServer();

  // Registers kv.v1.Kv and grpc.health.v1.Health (which becomes the server's
  // GetHealthCheckService()).
  void RegisterWith(grpc::ServerBuilder& builder);
  void Start(std::unique_ptr<grpc::ServerCompletionQueue> cq);
  void Shutdown();

  using Call = CqCall;

  EdgeKvService& handlers() { return handlers_; }
  RequestMetrics& metrics() { return metrics_; }
  kv::v1::Kv::AsyncService& async_service() { return service_; }
  grpc::ServerCompletionQueue* cq() { return cq_.get(); }
  ThreadPool& workers() { return *workers_; }

 private:
  void Poll();

  EdgeKvService& handlers_;
  RequestMetrics& metrics_;
  kv::v1::Kv::AsyncService service_;
  AsyncHealthService health_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<ThreadPool> workers_;
  const int worker_threads_;
  std::thread poller_;
  bool shut_down_ = false;
};

}  // namespace kv::edge

#endif  // KV_EDGE_ASYNC_KV_SERVER_H_
