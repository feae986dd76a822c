#include "edge/async_get_server.h"

namespace kv::edge {

// One Get call's state. Lives from RequestGet until its Finish completes;
// deleted on the polling thread.
class AsyncGetServer::Call {
 public:
  explicit Call(AsyncGetServer& server) : server_(server), responder_(&context_) {
    server_.service_.RequestGet(&context_, &request_, &responder_, server_.cq_.get(),
                                server_.cq_.get(), this);
  }

  // Called on the polling thread with the event's `ok`.
  void Proceed(bool ok) {
    if (finishing_ || !ok) {
      delete this;  // finished, or the server is shutting down
      return;
    }
    new Call(server_);  // accept the next call
    if (std::optional<grpc::Status> status =
            server_.service_.TryGetFromCache(context_, request_, &response_)) {
      Finish(*status);
      return;
    }
    server_.workers_->Submit([this] {
      Finish(server_.service_.GetBlocking(context_, request_, &response_));
    });
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

  AsyncGetServer& server_;
  grpc::ServerContext context_;
  kv::v1::GetRequest request_;
  kv::v1::GetResponse response_;
  grpc::ServerAsyncResponseWriter<kv::v1::GetResponse> responder_;
  bool finishing_ = false;
};

AsyncGetServer::AsyncGetServer(EdgeKvService& service,
                               std::unique_ptr<grpc::ServerCompletionQueue> cq,
                               int worker_threads)
    : service_(service), cq_(std::move(cq)), worker_threads_(worker_threads) {}

AsyncGetServer::~AsyncGetServer() { Shutdown(); }

void AsyncGetServer::Start() {
  workers_ = std::make_unique<WorkerPool>(worker_threads_);
  new Call(*this);
  poller_ = std::thread([this] { Poll(); });
  started_ = true;
}

void AsyncGetServer::Poll() {
  void* tag;
  bool ok;
  while (cq_->Next(&tag, &ok)) static_cast<Call*>(tag)->Proceed(ok);
}

void AsyncGetServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  workers_.reset();  // runs the handed-off calls to their Finish
  cq_->Shutdown();
  if (poller_.joinable()) {
    poller_.join();
  } else {
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) {
    }
  }
}

}  // namespace kv::edge
