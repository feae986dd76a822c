#include "central/async_kv_server.h"

#include <utility>

#include "common/async_unary_call.h"
#include "common/grpc_status.h"

namespace kv::central {

using AsyncService = kv::v1::Kv::AsyncService;

AsyncKvServer::AsyncKvServer(KvService& service, const AsyncKvServerOptions& options)
    : kv_service_(service), options_(options) {}

AsyncKvServer::~AsyncKvServer() { Shutdown(); }

void AsyncKvServer::BeginCall() {
  absl::MutexLock lock(&mu_);
  ++outstanding_;
}

void AsyncKvServer::EndCall() {
  absl::MutexLock lock(&mu_);
  --outstanding_;
}

template <typename Request, typename Response, typename RequestMethod>
void AsyncKvServer::ServeBlocking(
    RequestMethod request_method,
    absl::Status (KvService::*handler)(const RequestContext&, const Request*, Response*)) {
  using Call = AsyncUnaryCall<AsyncService, Request, Response>;
  auto method = std::make_shared<typename Call::Method>();
  method->service = &async_service_;
  method->cq = cq_.get();
  method->request_method = request_method;
  method->handler = [this, handler](Call& call) {
    BeginCall();
    workers_->Submit([this, handler, &call] {
      call.Finish(
          ToGrpcStatus((kv_service_.*handler)(call.context(), &call.request(), call.response())));
      EndCall();
    });
  };
  Call::Arm(std::move(method));
}

template <typename Request, typename Response, typename RequestMethod>
void AsyncKvServer::ServeAsync(RequestMethod request_method,
                               void (KvService::*handler)(const RequestContext&, const Request*,
                                                          Response*, KvService::Done)) {
  using Call = AsyncUnaryCall<AsyncService, Request, Response>;
  auto method = std::make_shared<typename Call::Method>();
  method->service = &async_service_;
  method->cq = cq_.get();
  method->request_method = request_method;
  method->handler = [this, handler](Call& call) {
    BeginCall();
    (kv_service_.*handler)(call.context(), &call.request(), call.response(),
                           [this, &call](absl::Status status) {
                             call.Finish(ToGrpcStatus(status));
                             EndCall();
                           });
  };
  Call::Arm(std::move(method));
}

void AsyncKvServer::Start(std::unique_ptr<grpc::ServerCompletionQueue> cq) {
  cq_ = std::move(cq);
  workers_ = std::make_unique<ThreadPool>(options_.worker_threads, "kv-worker");
  using namespace kv::v1;  // NOLINT: the message types below
  ServeAsync<PutRequest, PutResponse>(&AsyncService::RequestPut, &KvService::PutAsync);
  ServeAsync<DeleteRequest, DeleteResponse>(&AsyncService::RequestDelete, &KvService::DeleteAsync);
  ServeAsync<BulkPutRequest, BulkPutResponse>(&AsyncService::RequestBulkPut,
                                              &KvService::BulkPutAsync);
  ServeAsync<BulkDeleteRequest, BulkDeleteResponse>(&AsyncService::RequestBulkDelete,
                                                    &KvService::BulkDeleteAsync);
  ServeBlocking<GetRequest, GetResponse>(&AsyncService::RequestGet, &KvService::Get);
  ServeBlocking<ListRequest, ListResponse>(&AsyncService::RequestList, &KvService::List);
  ServeBlocking<CreateNamespaceRequest, Namespace>(&AsyncService::RequestCreateNamespace,
                                                   &KvService::CreateNamespace);
  ServeBlocking<ListNamespacesRequest, ListNamespacesResponse>(
      &AsyncService::RequestListNamespaces, &KvService::ListNamespaces);
  ServeBlocking<GetNamespaceRequest, Namespace>(&AsyncService::RequestGetNamespace,
                                                &KvService::GetNamespace);
  ServeBlocking<RenameNamespaceRequest, Namespace>(&AsyncService::RequestRenameNamespace,
                                                   &KvService::RenameNamespace);
  ServeBlocking<DeleteNamespaceRequest, DeleteNamespaceResponse>(
      &AsyncService::RequestDeleteNamespace, &KvService::DeleteNamespace);
  for (int i = 0; i < std::max(1, options_.poll_threads); ++i) {
    pollers_.emplace_back([this] {
      NameThisThread("kv-cq");
      PollCompletionQueue(*cq_);
    });
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
  workers_.reset();
  cq_->Shutdown();
  for (std::thread& poller : pollers_) poller.join();
}

}  // namespace kv::central
