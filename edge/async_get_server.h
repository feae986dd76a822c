#ifndef KV_EDGE_ASYNC_GET_SERVER_H_
#define KV_EDGE_ASYNC_GET_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>
#include <vector>

#include "edge/edge_kv_service.h"
#include "edge/worker_pool.h"

namespace kv::edge {

// Serves EdgeKvService's Get on a completion queue (gRPC's async API, the
// cheapest per call): a read the cache can answer is answered on the
// polling thread; one that needs a central is handed to a worker pool, which
// answers when the central has. Construct with the queue obtained from the
// ServerBuilder (AddCompletionQueue) before BuildAndStart; Start() after it.
// Shutdown(): after the server's Shutdown(); finishes the workers' calls,
// drains the queue and joins.
class AsyncGetServer {
 public:
  AsyncGetServer(EdgeKvService& service, std::unique_ptr<grpc::ServerCompletionQueue> cq,
                 int worker_threads);
  ~AsyncGetServer();

  void Start();
  void Shutdown();

 private:
  class Call;
  void Poll();

  EdgeKvService& service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<WorkerPool> workers_;
  const int worker_threads_;
  std::thread poller_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace kv::edge

#endif  // KV_EDGE_ASYNC_GET_SERVER_H_
