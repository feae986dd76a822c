#include "edge/async_kv_server.h"

#include <functional>
#include <optional>

#include "common/grpc_auth.h"

namespace kv::edge {
namespace {

using AsyncService = kv::v1::Kv::AsyncService;

// One unary call of method Request→Response. Lives from its Request*
// registration until its Finish completes; deleted on the polling thread.
template <typename Request, typename Response>
class UnaryCall final : public AsyncKvServer::Call {
 public:
  using RequestMethod = void (AsyncService::*)(grpc::ServerContext*, Request*,
                                               grpc::ServerAsyncResponseWriter<Response>*,
                                               grpc::CompletionQueue*,
                                               grpc::ServerCompletionQueue*, void*);
  using Handler =
      grpc::Status (EdgeKvService::*)(const RequestContext&, const Request*, Response*);
  // A non-blocking attempt (nullopt: hand the call to a worker).
  using FastHandler = std::optional<grpc::Status> (EdgeKvService::*)(
      const RequestContext&, const Request&, Response*);

  UnaryCall(AsyncKvServer& server, RequestMethod request_method, Handler handler,
            FastHandler fast_handler)
      : server_(server),
        request_method_(request_method),
        handler_(handler),
        fast_handler_(fast_handler),
        responder_(&context_) {
    (server_.async_service().*request_method_)(&context_, &request_, &responder_,
                                                server_.cq(), server_.cq(), this);
  }

  void Proceed(bool ok) override {
    if (finishing_ || !ok) {
      delete this;  // finished, or the server is shutting down
      return;
    }
    new UnaryCall(server_, request_method_, handler_, fast_handler_);  // the next call
    request_context_ = RequestContextOf(context_);
    if (fast_handler_ != nullptr) {
      if (std::optional<grpc::Status> status =
              (server_.handlers().*fast_handler_)(request_context_, request_, &response_)) {
        Finish(*status);
        return;
      }
    }
    server_.workers().Submit(
        [this] { Finish((server_.handlers().*handler_)(request_context_, &request_, &response_)); });
  }

 private:
  void Finish(const grpc::Status& status) {
    finishing_ = true;
    if (status.ok()) {
      responder_.Finish(response_, status, this);
    } else {
      responder_.FinishWithError(status, this);
    }
  }

  AsyncKvServer& server_;
  const RequestMethod request_method_;
  const Handler handler_;
  const FastHandler fast_handler_;
  grpc::ServerContext context_;
  RequestContext request_context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> responder_;
  bool finishing_ = false;
};

template <typename Request, typename Response>
void Accept(AsyncKvServer& server,
            typename UnaryCall<Request, Response>::RequestMethod request_method,
            typename UnaryCall<Request, Response>::Handler handler,
            typename UnaryCall<Request, Response>::FastHandler fast_handler = nullptr) {
  new UnaryCall<Request, Response>(server, request_method, handler, fast_handler);
}

}  // namespace

AsyncKvServer::AsyncKvServer(EdgeKvService& handlers, int worker_threads)
    : handlers_(handlers), worker_threads_(worker_threads) {}

AsyncKvServer::~AsyncKvServer() { Shutdown(); }

void AsyncKvServer::Start(std::unique_ptr<grpc::ServerCompletionQueue> cq) {
  cq_ = std::move(cq);
  workers_ = std::make_unique<WorkerPool>(worker_threads_);
  using namespace kv::v1;  // NOLINT: the message types below
  Accept<GetRequest, GetResponse>(*this, &AsyncService::RequestGet, &EdgeKvService::Get,
                                  &EdgeKvService::TryGetFromCache);
  Accept<PutRequest, PutResponse>(*this, &AsyncService::RequestPut, &EdgeKvService::Put);
  Accept<DeleteRequest, DeleteResponse>(*this, &AsyncService::RequestDelete,
                                        &EdgeKvService::Delete);
  Accept<ListRequest, ListResponse>(*this, &AsyncService::RequestList, &EdgeKvService::List);
  Accept<BulkPutRequest, BulkPutResponse>(*this, &AsyncService::RequestBulkPut,
                                          &EdgeKvService::BulkPut);
  Accept<BulkDeleteRequest, BulkDeleteResponse>(*this, &AsyncService::RequestBulkDelete,
                                                &EdgeKvService::BulkDelete);
  Accept<CreateNamespaceRequest, Namespace>(*this, &AsyncService::RequestCreateNamespace,
                                            &EdgeKvService::CreateNamespace);
  Accept<ListNamespacesRequest, ListNamespacesResponse>(
      *this, &AsyncService::RequestListNamespaces, &EdgeKvService::ListNamespaces);
  Accept<GetNamespaceRequest, Namespace>(*this, &AsyncService::RequestGetNamespace,
                                         &EdgeKvService::GetNamespace);
  Accept<RenameNamespaceRequest, Namespace>(*this, &AsyncService::RequestRenameNamespace,
                                            &EdgeKvService::RenameNamespace);
  Accept<DeleteNamespaceRequest, DeleteNamespaceResponse>(
      *this, &AsyncService::RequestDeleteNamespace, &EdgeKvService::DeleteNamespace);
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
  workers_.reset();  // runs the handed-off calls to their Finish
  cq_->Shutdown();
  if (poller_.joinable()) poller_.join();
}

}  // namespace kv::edge
