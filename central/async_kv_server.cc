#include "central/async_kv_server.h"

#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "central/commit_queue.h"
#include "common/async_unary_call.h"
#include "common/grpc_status.h"

namespace kv::central {

using AsyncService = kv::v1::Kv::AsyncService;

namespace {

// Most events a poller takes without blocking before it commits what they
// wrote, so a steady stream of requests cannot delay a group forever.
constexpr int kMaxEventsPerBatch = 256;
// A group this large already shares its WAL sync among enough writes: the
// poller commits it without waiting for more (at 16 writers, groups of
// ~10, waiting to merge them cost the busy poller more than it saved).
constexpr size_t kNoWaitGroupSize = 8;

}  // namespace

AsyncKvServer::AsyncKvServer(KvService& service, const AsyncKvServerOptions& options,
                             RequestMetrics& metrics, CentralMetrics* central_metrics)
    : kv_service_(service),
      options_(options),
      metrics_(metrics),
      own_registry_(central_metrics == nullptr ? std::make_unique<prometheus::Registry>()
                                               : nullptr),
      own_metrics_(own_registry_ != nullptr ? std::make_unique<CentralMetrics>(*own_registry_)
                                            : nullptr),
      central_metrics_(central_metrics != nullptr ? *central_metrics : *own_metrics_),
      group_commit_wait_(GroupCommitWait::Options{.max_wait = options.group_commit_wait}) {}

AsyncKvServer::~AsyncKvServer() { Shutdown(); }

void AsyncKvServer::BeginCall() {
  absl::MutexLock lock(&mu_);
  ++outstanding_;
}

void AsyncKvServer::EndCall() {
  absl::MutexLock lock(&mu_);
  --outstanding_;
}

template <typename Call, typename RequestMethod>
std::shared_ptr<typename Call::Method> AsyncKvServer::NewMethod(RequestMethod request_method) {
  auto method = std::make_shared<typename Call::Method>();
  method->service = &async_service_;
  method->cq = cq_.get();
  method->request_method = request_method;
  return method;
}

template <typename Call>
void AsyncKvServer::Answer(Call& call, int op_index, absl::Time arrival,
                           const grpc::Status& status) {
  metrics_.Record(op_index, status.error_code(), absl::Now() - arrival);
  call.Finish(status);
  EndCall();
}

template <typename Request, typename Response, typename RequestMethod>
void AsyncKvServer::ServeBlocking(absl::string_view op, RequestMethod request_method,
                                  absl::Status (KvService::*handler)(const RequestContext&,
                                                                     const Request*, Response*)) {
  using Call = AsyncUnaryCall<AsyncService, Request, Response>;
  auto method = NewMethod<Call>(request_method);
  method->handler = [this, handler, op_index = RequestMetrics::OpIndex(op)](Call& call) {
    const absl::Time arrival = absl::Now();
    BeginCall();
    workers_->Submit([this, handler, op_index, arrival, &call] {
      Answer(call, op_index, arrival,
             ToGrpcStatus((kv_service_.*handler)(call.context(), &call.request(),
                                                 call.response())));
    });
  };
  Call::Arm(std::move(method));
}

template <typename Request, typename Response, typename RequestMethod>
void AsyncKvServer::ServeAsync(absl::string_view op, RequestMethod request_method,
                               void (KvService::*handler)(const RequestContext&, const Request*,
                                                          Response*, KvService::Done)) {
  using Call = AsyncUnaryCall<AsyncService, Request, Response>;
  auto method = NewMethod<Call>(request_method);
  method->handler = [this, handler, op_index = RequestMetrics::OpIndex(op)](Call& call) {
    const absl::Time arrival = absl::Now();
    BeginCall();
    std::string peer;
    if (group_commit_wait_.enabled()) {
      peer = call.peer();
      group_commit_wait_.OnArrival(peer, arrival);
    }
    (kv_service_.*handler)(call.context(), &call.request(), call.response(),
                           [this, op_index, arrival, &call, peer = std::move(peer)](
                               absl::Status status) {
                             if (!peer.empty()) group_commit_wait_.OnAnswer(peer);
                             Answer(call, op_index, arrival, ToGrpcStatus(status));
                           });
  };
  Call::Arm(std::move(method));
}

void AsyncKvServer::RegisterWith(grpc::ServerBuilder& builder) {
  builder.RegisterService(&async_service_);
  builder.RegisterService(health_.service());
  builder.SetOption(health_.BuilderOption());
}

void AsyncKvServer::Start(std::unique_ptr<grpc::ServerCompletionQueue> cq) {
  cq_ = std::move(cq);
  workers_ = std::make_unique<ThreadPool>(options_.worker_threads, "kv-worker");
  using namespace kv::v1;  // NOLINT: the message types below
  ServeAsync<PutRequest, PutResponse>("put", &AsyncService::RequestPut, &KvService::PutAsync);
  ServeAsync<DeleteRequest, DeleteResponse>("delete", &AsyncService::RequestDelete,
                                            &KvService::DeleteAsync);
  ServeAsync<BulkPutRequest, BulkPutResponse>("bulk_put", &AsyncService::RequestBulkPut,
                                              &KvService::BulkPutAsync);
  ServeAsync<BulkDeleteRequest, BulkDeleteResponse>("bulk_delete", &AsyncService::RequestBulkDelete,
                                                    &KvService::BulkDeleteAsync);
  ServeBlocking<GetRequest, GetResponse>("get", &AsyncService::RequestGet, &KvService::Get);
  ServeBlocking<ListRequest, ListResponse>("list", &AsyncService::RequestList, &KvService::List);
  ServeBlocking<CreateNamespaceRequest, Namespace>(
      "create_namespace", &AsyncService::RequestCreateNamespace, &KvService::CreateNamespace);
  ServeBlocking<ListNamespacesRequest, ListNamespacesResponse>(
      "list_namespaces", &AsyncService::RequestListNamespaces, &KvService::ListNamespaces);
  ServeBlocking<GetNamespaceRequest, Namespace>("get_namespace", &AsyncService::RequestGetNamespace,
                                                &KvService::GetNamespace);
  ServeBlocking<RenameNamespaceRequest, Namespace>(
      "rename_namespace", &AsyncService::RequestRenameNamespace, &KvService::RenameNamespace);
  ServeBlocking<DeleteNamespaceRequest, DeleteNamespaceResponse>(
      "delete_namespace", &AsyncService::RequestDeleteNamespace, &KvService::DeleteNamespace);
  health_.Start(cq_.get());
  for (int i = 0; i < std::max(1, options_.poll_threads); ++i) {
    pollers_.emplace_back([this] {
      NameThisThread("kv-cq");
      Poll();
    });
  }
}

void AsyncKvServer::Poll() {
  void* tag;
  bool ok;
  CommitBatch batch;
  IdleSpin spin(options_.idle_poll);
  while (NextEvent(spin, &tag, &ok)) {
    static_cast<CompletionTag*>(tag)->Proceed(ok);
    // The requests that are ready now (read with this one) are enqueued
    // too, then committed together: one WAL sync for the burst, on this
    // thread, instead of one sync each (or a hand-off to the committer).
    for (int i = 1; i < kMaxEventsPerBatch; ++i) {
      if (cq_->AsyncNext(&tag, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC)) !=
          grpc::CompletionQueue::GOT_EVENT) {
        break;
      }
      static_cast<CompletionTag*>(tag)->Proceed(ok);
    }
    AwaitGroup(batch);
    batch.Flush();
  }
}

bool AsyncKvServer::NextEvent(IdleSpin& spin, void** tag, bool* ok) {
  const int64_t start_ns = absl::GetCurrentTimeNanos();
  if (spin.ShouldSpin()) {
    const int64_t until_ns = start_ns + absl::ToInt64Nanoseconds(spin.window());
    while (true) {
      const grpc::CompletionQueue::NextStatus next =
          cq_->AsyncNext(tag, ok, gpr_time_0(GPR_CLOCK_MONOTONIC));
      if (next == grpc::CompletionQueue::SHUTDOWN) return false;
      const int64_t now_ns = absl::GetCurrentTimeNanos();
      if (next == grpc::CompletionQueue::GOT_EVENT) {
        spin.OnIdleEnded(absl::Nanoseconds(now_ns - start_ns));
        central_metrics_.idle_spins_event.Increment();
        return true;
      }
      if (now_ns >= until_ns) break;
    }
    central_metrics_.idle_spins_expired.Increment();
  }
  if (!cq_->Next(tag, ok)) return false;
  spin.OnIdleEnded(absl::Nanoseconds(absl::GetCurrentTimeNanos() - start_ns));
  return true;
}

void AsyncKvServer::AwaitGroup(const CommitBatch& batch) {
  if (batch.deferred() == 0 || batch.deferred() >= kNoWaitGroupSize ||
      group_commit_wait_.Expected(absl::Now()) == 0) {
    return;
  }
  const gpr_timespec deadline = gpr_time_add(
      gpr_now(GPR_CLOCK_MONOTONIC),
      gpr_time_from_micros(absl::ToInt64Microseconds(group_commit_wait_.max_wait()),
                           GPR_TIMESPAN));
  void* tag;
  bool ok;
  while (true) {
    const grpc::CompletionQueue::NextStatus next = cq_->AsyncNext(&tag, &ok, deadline);
    if (next == grpc::CompletionQueue::SHUTDOWN) return;
    if (next == grpc::CompletionQueue::TIMEOUT) {
      group_commit_wait_.OnWaitEnded(/*complete=*/false, absl::Now());
      central_metrics_.group_commit_waits_timed_out.Increment();
      return;
    }
    static_cast<CompletionTag*>(tag)->Proceed(ok);
    const absl::Time now = absl::Now();
    if (batch.deferred() >= kNoWaitGroupSize || group_commit_wait_.Expected(now) == 0) {
      group_commit_wait_.OnWaitEnded(/*complete=*/true, now);
      central_metrics_.group_commit_waits_complete.Increment();
      return;
    }
  }
}

void AsyncKvServer::Shutdown() {
  if (shut_down_ || cq_ == nullptr) return;
  shut_down_ = true;
  {
    // Every call handed off is answered before the queue shuts down (a
    // Finish after that would be refused). Writes end by their deadline.
    absl::MutexLock lock(&mu_);
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outstanding_ == 0; };
    mu_.Await(absl::Condition(&idle));
  }
  health_.Shutdown();  // in case the server's Shutdown did not
  workers_.reset();
  cq_->Shutdown();
  for (std::thread& poller : pollers_) poller.join();
}

}  // namespace kv::central
