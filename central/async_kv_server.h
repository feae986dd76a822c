#ifndef KV_CENTRAL_ASYNC_KV_SERVER_H_
#define KV_CENTRAL_ASYNC_KV_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "central/central_metrics.h"
#include "central/group_commit_wait.h"
#include "central/idle_spin.h"
#include "central/kv_service.h"
#include "common/async_health_service.h"
#include "common/request_metrics.h"
#include "common/thread_pool.h"
#include "proto/kv.grpc.pb.h"

namespace kv::central {

class CommitBatch;

struct AsyncKvServerOptions {
  // Threads polling the completion queue. A poller takes every event that
  // is ready, then commits the writes they carry as one group when the
  // commit queue is idle (no thread hand-off, one WAL sync for the burst);
  // while it syncs, requests wait in the sockets and form the next group.
  // One beats two on 2 cores: 49 against 82 µs of CPU per put at 16 writers
  // (docs/write-path.md). Default: 1.
  int poll_threads = 1;
  // Threads running the calls that may block: reads, lists, namespace
  // calls. Default: 16.
  int worker_threads = 16;
  // Before committing a group, a poller waits up to this long for the next
  // writes of the clients that have been writing and have none at the
  // central now, so they join the group instead of forming the next one
  // (GroupCommitWait: backs off when such waits time out). Zero: never
  // wait. Default: 200 us.
  absl::Duration group_commit_wait = absl::Microseconds(200);
  // A poller out of work polls the queue without sleeping up to this long
  // before it blocks, when its previous idle period was no longer
  // (IdleSpin): a closed-loop client's next request is then read without
  // a wake-up. Zero: always block at once. Default: 200 us.
  absl::Duration idle_poll = absl::Microseconds(200);
};

// Serves a central's KvService (kv.v1.Kv) on a gRPC completion queue:
//  - record writes (Put, Delete, BulkPut, BulkDelete) are validated on the
//    polling thread and handed to the commit queue without blocking; the
//    thread that commits their group (or sees their write quorum) answers
//    them, so a write costs no thread of its own while it waits;
//  - every other call runs on a worker pool and is answered from there;
//  - every call is counted in `metrics` (kv_requests_total{op,code},
//    timed from its arrival to its status) without a server interceptor,
//    whose extra completion-queue round trips cost two thread hand-offs a
//    call;
//  - grpc.health.v1 is served on the same queue (common/async_health_-
//    service.h), so no callback service starts gRPC's "nexting" threads,
//    which would take turns with ours at polling the connections.
// RegisterWith(builder) and take the queue from the builder
// (AddCompletionQueue) before BuildAndStart; Start() after it. Other
// services may put their calls on cq() (their tags CompletionTags).
// Shutdown() (after the grpc::Server's): waits until every call handed off
// has been answered, then shuts the queue down, drains it and joins.
// Thread-safe. `service` and `metrics` must outlive this object.
class AsyncKvServer {
 public:
  // `central_metrics` (optional) receives the poller's counts (group-commit
  // waits, idle spins); without it they go to a registry of its own.
  AsyncKvServer(KvService& service, const AsyncKvServerOptions& options, RequestMetrics& metrics,
                CentralMetrics* central_metrics = nullptr);
  ~AsyncKvServer();
  AsyncKvServer(const AsyncKvServer&) = delete;
  AsyncKvServer& operator=(const AsyncKvServer&) = delete;

  // Registers kv.v1.Kv and grpc.health.v1.Health (which becomes the
  // server's GetHealthCheckService()).
  void RegisterWith(grpc::ServerBuilder& builder);
  void Start(std::unique_ptr<grpc::ServerCompletionQueue> cq);
  // The queue after Start.
  grpc::ServerCompletionQueue* cq() { return cq_.get(); }
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Serves a method on the worker pool with a blocking KvService handler.
  template <typename Request, typename Response, typename RequestMethod>
  void ServeBlocking(absl::string_view op, RequestMethod request_method,
                     absl::Status (KvService::*handler)(const RequestContext&, const Request*,
                                                        Response*));
  // Serves a method with an asynchronous KvService handler.
  template <typename Request, typename Response, typename RequestMethod>
  void ServeAsync(absl::string_view op, RequestMethod request_method,
                  void (KvService::*handler)(const RequestContext&, const Request*, Response*,
                                             KvService::Done));
  // A method of async_service_ on cq_.
  template <typename Call, typename RequestMethod>
  std::shared_ptr<typename Call::Method> NewMethod(RequestMethod request_method);
  // Records a call's metrics, answers it and counts it done (any thread).
  template <typename Call>
  void Answer(Call& call, int op_index, absl::Time arrival, const grpc::Status& status);
  // A polling thread: takes an event, then every event ready without
  // waiting (at most a bound), then commits the writes they enqueued
  // together (CommitBatch).
  void Poll();
  // When `batch` holds writes: takes events until the writes that
  // group_commit_wait_ expects have come, or group_commit_wait passes.
  void AwaitGroup(const CommitBatch& batch);
  // The next event of the queue, polling without blocking first when
  // `spin` says so. False once the queue is shut down.
  bool NextEvent(IdleSpin& spin, void** tag, bool* ok);
  void BeginCall() ABSL_LOCKS_EXCLUDED(mu_);
  void EndCall() ABSL_LOCKS_EXCLUDED(mu_);

  KvService& kv_service_;
  const AsyncKvServerOptions options_;
  RequestMetrics& metrics_;
  // Where the poller's counts go when no CentralMetrics was given.
  const std::unique_ptr<prometheus::Registry> own_registry_;
  const std::unique_ptr<CentralMetrics> own_metrics_;
  CentralMetrics& central_metrics_;
  kv::v1::Kv::AsyncService async_service_;
  AsyncHealthService health_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<ThreadPool> workers_;
  std::vector<std::thread> pollers_;
  GroupCommitWait group_commit_wait_;

  absl::Mutex mu_;
  // Calls handed to a handler and not yet answered.
  int outstanding_ ABSL_GUARDED_BY(mu_) = 0;
  bool shut_down_ = false;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_ASYNC_KV_SERVER_H_
