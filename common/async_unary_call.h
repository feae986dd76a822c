#ifndef KV_COMMON_ASYNC_UNARY_CALL_H_
#define KV_COMMON_ASYNC_UNARY_CALL_H_

// Unary RPCs served on a gRPC completion queue, the cheapest server API per
// call on our machines (11.5 µs of server CPU against 14–15 µs for the
// callback API and 17.6 µs for the sync API, ../shared/baselines). A server
// arms one AsyncUnaryCall per method; each accepted call arms the next one
// and hands itself to the method's handler, which finishes it from any
// thread, at once or later (after a group commit, a worker's disk read...).

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "common/completion_tag.h"
#include "common/grpc_auth.h"
#include "common/request_context.h"
#include "common/tls.h"

namespace kv {

// Runs `cq`'s events until the queue is shut down and drained. Any number
// of threads may poll one queue.
void PollCompletionQueue(grpc::ServerCompletionQueue& cq);

// One call of the unary method Request → Response of AsyncService (a
// generated `X::AsyncService` or `X::WithAsyncMethod_Y<...>`). Lives from
// its registration until its Finish has been sent (or the server shuts
// down); deletes itself on a polling thread. Its request, response and
// contexts stay valid until Finish.
template <typename AsyncService, typename Request, typename Response>
class AsyncUnaryCall final : public CompletionTag {
 public:
  using RequestMethod = void (AsyncService::*)(grpc::ServerContext*, Request*,
                                               grpc::ServerAsyncResponseWriter<Response>*,
                                               grpc::CompletionQueue*,
                                               grpc::ServerCompletionQueue*, void*);
  // Called on the polling thread for every accepted call; must call
  // call.Finish exactly once, on any thread, now or later. It should not
  // block: hand blocking work to another thread.
  using Handler = std::function<void(AsyncUnaryCall& call)>;

  struct Method {
    AsyncService* service;
    grpc::ServerCompletionQueue* cq;
    RequestMethod request_method;
    Handler handler;
  };

  // Arms the first call of `method` (before the queue is polled).
  static void Arm(std::shared_ptr<const Method> method) { new AsyncUnaryCall(std::move(method)); }

  const RequestContext& context() const { return request_context_; }
  // The caller presented a client certificate the cluster CA signed
  // (mutual TLS): a node. Asked only by node-only methods (it costs an
  // auth-context lookup).
  bool HasNodeCertificate() const { return HasVerifiedClientCertificate(server_context_); }
  // The client's address ("ipv4:127.0.0.1:54321"): one per connection.
  std::string peer() const { return server_context_.peer(); }
  const Request& request() const { return request_; }
  Response* response() { return &response_; }

  // Sends the response (status OK) or the error. Exactly once.
  void Finish(const grpc::Status& status) {
    finishing_ = true;
    if (status.ok()) {
      responder_.Finish(response_, status, this);
    } else {
      responder_.FinishWithError(status, this);
    }
  }

  void Proceed(bool ok) override {
    if (finishing_ || !ok) {
      delete this;  // sent, or the server is shutting down
      return;
    }
    Arm(method_);  // the next call of this method
    request_context_ = RequestContextOf(server_context_);
    method_->handler(*this);
  }

 private:
  explicit AsyncUnaryCall(std::shared_ptr<const Method> method)
      : method_(std::move(method)), responder_(&server_context_) {
    (method_->service->*method_->request_method)(&server_context_, &request_, &responder_,
                                                 method_->cq, method_->cq, this);
  }

  const std::shared_ptr<const Method> method_;
  grpc::ServerContext server_context_;
  RequestContext request_context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> responder_;
  bool finishing_ = false;
};

}  // namespace kv

#endif  // KV_COMMON_ASYNC_UNARY_CALL_H_
