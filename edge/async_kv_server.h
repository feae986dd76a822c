#ifndef KV_EDGE_ASYNC_KV_SERVER_H_
#define KV_EDGE_ASYNC_KV_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>

#include "edge/edge_kv_service.h"
#include "edge/worker_pool.h"
#include "proto/kv.grpc.pb.h"

namespace kv::edge {

// Serves EdgeKvService over gRPC's completion-queue API, the cheapest per
// call, with one polling thread and no other gRPC server threads:
//  - a Get the cache can answer is answered on the polling thread
//    (EdgeKvService::TryGetFromCache never blocks);
//  - every other call (a Get that needs a central, writes, lists,
//    namespace calls: all may wait on a central) runs on a worker pool and
//    is finished from there.
// Register service() with the ServerBuilder and take the queue from it
// (AddCompletionQueue) before BuildAndStart; Start() after it. Shutdown():
// after the server's Shutdown(); finishes the workers' calls, drains the
// queue and joins.
class AsyncKvServer {
 public:
  AsyncKvServer(EdgeKvService& handlers, int worker_threads);
  ~AsyncKvServer();

  kv::v1::Kv::AsyncService* service() { return &service_; }
  void Start(std::unique_ptr<grpc::ServerCompletionQueue> cq);
  void Shutdown();

  // One accepted call; implementations in the .cc.
  class Call {
   public:
    virtual ~Call() = default;
    // Called on the polling thread with the queue event's `ok`.
    virtual void Proceed(bool ok) = 0;
  };

  EdgeKvService& handlers() { return handlers_; }
  kv::v1::Kv::AsyncService& async_service() { return service_; }
  grpc::ServerCompletionQueue* cq() { return cq_.get(); }
  WorkerPool& workers() { return *workers_; }

 private:
  void Poll();

  EdgeKvService& handlers_;
  kv::v1::Kv::AsyncService service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<WorkerPool> workers_;
  const int worker_threads_;
  std::thread poller_;
  bool shut_down_ = false;
};

}  // namespace kv::edge

#endif  // KV_EDGE_ASYNC_KV_SERVER_H_
