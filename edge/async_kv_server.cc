#include "edge/async_kv_server.h"

#include <functional>
#include <optional>

#include "absl/time/clock.h"
#include "common/grpc_auth.h"

namespace kv::edge {
namespace {

using AsyncService = kv::v1::Kv::AsyncService;

// Calls of each method waiting for a request. Get, the hot path, keeps as
// many as a client has in flight (as the bare server of kv-bench does), so
// that a burst of requests read together is matched at once instead of
// queueing in gRPC until the polling thread re-registers one by one.
constexpr int kGetCallsWaiting = 64;
constexpr int kOtherCallsWaiting = 4;

// One unary call of method Request→Response. Lives from its Request*
// registration until its Finish completes; deleted on the polling thread.
template <typename Request, typename Response>
class UnaryCall final : public AsyncKvServer::Call {
 public:
  using RequestMethod = void (AsyncService::*)(grpc::ServerContext*, Request*,
                                               grpc::ServerAsyncResponseWriter<Response>*,
                                               grpc::CompletionQueue*, grpc::ServerCompletionQueue*,
                                               void*);
  using Handler = grpc::Status (EdgeKvService::*)(const RequestContext&, const Request*, Response*);
  // A non-blocking attempt (nullopt: hand the call to a worker).
  using FastHandler = std::optional<grpc::Status> (EdgeKvService::*)(const RequestContext&,
                                                                     const Request&, Response*);

  UnaryCall(AsyncKvServer& server, int op_index, RequestMethod request_method, Handler handler,
            FastHandler fast_handler)
      : server_(server),
        op_index_(op_index),
        request_method_(request_method),
        handler_(handler),
        fast_handler_(fast_handler),
        responder_(&context_) {
    (server_.async_service().*request_method_)(&context_, &request_, &responder_, server_.cq(),
                                               server_.cq(), this);
  }

  void Proceed(bool ok) override {
    if (finishing_ || !ok) {
      delete this;  // finished, or the server is shutting down
      return;
    }
    arrival_ = absl::Now();
    // Keeps as many calls of this method waiting as before.
    new UnaryCall(server_, op_index_, request_method_, handler_, fast_handler_);
    request_context_ = RequestContextOf(context_);
    if (fast_handler_ != nullptr) {
      if (std::optional<grpc::Status> status =
              (server_.handlers().*fast_handler_)(request_context_, request_, &response_)) {
        Finish(*status);
        return;
      }
    }
    server_.workers().Submit([this] {
      Finish((server_.handlers().*handler_)(request_context_, &request_, &response_));
    });
  }

 private:
  void Finish(const grpc::Status& status) {
    finishing_ = true;
    server_.metrics().Record(op_index_, status.error_code(), absl::Now() - arrival_);
    if (status.ok()) {
      responder_.Finish(response_, status, this);
    } else {
      responder_.FinishWithError(status, this);
    }
  }

  AsyncKvServer& server_;
  const int op_index_;  // RequestMetrics::OpIndex
  const RequestMethod request_method_;
  const Handler handler_;
  const FastHandler fast_handler_;
  grpc::ServerContext context_;
  RequestContext request_context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> responder_;
  absl::Time arrival_;
  bool finishing_ = false;
};

// Registers the calls of one method; `op` names it in the request metrics.
template <typename Request, typename Response>
void Accept(AsyncKvServer& server, absl::string_view op,
            typename UnaryCall<Request, Response>::RequestMethod request_method,
            typename UnaryCall<Request, Response>::Handler handler,
            typename UnaryCall<Request, Response>::FastHandler fast_handler = nullptr,
            int waiting = kOtherCallsWaiting) {
  const int op_index = RequestMetrics::OpIndex(op);
  for (int i = 0; i < waiting; ++i) {
    new UnaryCall<Request, Response>(server, op_index, request_method, handler, fast_handler);
  }
}

}  // namespace

AsyncKvServer::AsyncKvServer(EdgeKvService& handlers, int worker_threads, RequestMetrics& metrics)
    : handlers_(handlers), metrics_(metrics), worker_threads_(worker_threads) {}

AsyncKvServer::~AsyncKvServer() { Shutdown(); }

void AsyncKvServer::RegisterWith(grpc::ServerBuilder& builder) {
  builder.RegisterService(&service_);
  builder.RegisterService(health_.service());
  builder.SetOption(health_.BuilderOption());
}

void AsyncKvServer::Start(std::unique_ptr<grpc::ServerCompletionQueue> cq) {
  cq_ = std::move(cq);
  workers_ = std::make_unique<ThreadPool>(worker_threads_, "edge-worker");
  using namespace kv::v1;  // NOLINT: the message types below
  Accept<GetRequest, GetResponse>(*this, "get", &AsyncService::RequestGet, &EdgeKvService::Get,
                                  &EdgeKvService::TryGetFromCache, kGetCallsWaiting);
  Accept<PutRequest, PutResponse>(*this, "put", &AsyncService::RequestPut, &EdgeKvService::Put);
  Accept<DeleteRequest, DeleteResponse>(*this, "delete", &AsyncService::RequestDelete,
                                        &EdgeKvService::Delete);
  Accept<ListRequest, ListResponse>(*this, "list", &AsyncService::RequestList,
                                    &EdgeKvService::List);
  Accept<BulkPutRequest, BulkPutResponse>(*this, "bulk_put", &AsyncService::RequestBulkPut,
                                          &EdgeKvService::BulkPut);
  Accept<BulkDeleteRequest, BulkDeleteResponse>(
      *this, "bulk_delete", &AsyncService::RequestBulkDelete, &EdgeKvService::BulkDelete);
  Accept<CreateNamespaceRequest, Namespace>(*this, "create_namespace",
                                            &AsyncService::RequestCreateNamespace,
                                            &EdgeKvService::CreateNamespace);
  Accept<ListNamespacesRequest, ListNamespacesResponse>(*this, "list_namespaces",
                                                        &AsyncService::RequestListNamespaces,
                                                        &EdgeKvService::ListNamespaces);
  Accept<GetNamespaceRequest, Namespace>(*this, "get_namespace", &AsyncService::RequestGetNamespace,
                                         &EdgeKvService::GetNamespace);
  Accept<RenameNamespaceRequest, Namespace>(*this, "rename_namespace",
                                            &AsyncService::RequestRenameNamespace,
                                            &EdgeKvService::RenameNamespace);
  Accept<DeleteNamespaceRequest, DeleteNamespaceResponse>(*this, "delete_namespace",
                                                          &AsyncService::RequestDeleteNamespace,
                                                          &EdgeKvService::DeleteNamespace);
  health_.Start(cq_.get());
  poller_ = std::thread([this] { Poll(); });
}

void AsyncKvServer::Poll() {
  void* tag;
  bool ok;
  while (cq_->Next(&tag, &ok)) static_cast<Call*>(tag)->Proceed(ok);
}

void AsyncKvServer::Shutdown() {
  if (shut_down_ || cq_ == nullptr) return;
  shut_down_ = true;
  health_.Shutdown();  // in case the server's Shutdown did not
  workers_.reset();    // runs the handed-off calls to their Finish
  cq_->Shutdown();
  if (poller_.joinable()) poller_.join();
}

}  // namespace kv::edge
