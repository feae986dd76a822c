// Invariants of the calls below:
//  - a call's tags are distinct CompletionTag members, each in flight at most
//  once;
//  - a WatchCall's state is guarded by the service's mutex, and at most one
//    Write or Finish is in flight per call;
//  - a WatchCall is deleted once gRPC has reported it done (AsyncNotifyWhen-
//    Done, delivered for every call that was matched) and none of its ops is
//    in flight; an unmatched call (request failed at shutdown) at once.
#include "common/async_health_service.h"

#include <grpcpp/ext/health_check_service_server_builder_option.h>

#include <utility>

#include "common/completion_tag.h"

namespace kv {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// The server owns its HealthCheckServiceInterface; it gets this forwarder,
// and the node keeps the service itself (which must outlive the server).
class Forwarder final : public grpc::HealthCheckServiceInterface {
 public:
  explicit Forwarder(AsyncHealthService& target) : target_(target) {}
  void SetServingStatus(const std::string& service, bool serving) override {
    target_.SetServingStatus(service, serving);
  }
  void SetServingStatus(bool serving) override { target_.SetServingStatus(serving); }
  void Shutdown() override { target_.Shutdown(); }

 private:
  AsyncHealthService& target_;
};

}  // namespace

// --- Check: unary ----------------------------------------------------------

class AsyncHealthService::CheckCall final : public CompletionTag {
 public:
  CheckCall(AsyncHealthService& owner, grpc::ServerCompletionQueue* cq)
      : owner_(owner), cq_(cq), responder_(&context_) {
    owner_.service_.RequestCheck(&context_, &request_, &responder_, cq_, cq_, this);
  }

  void Proceed(bool ok) override {
    if (finishing_ || !ok) {
      delete this;
      return;
    }
    new CheckCall(owner_, cq_);
    finishing_ = true;
    const ServingStatus status = owner_.StatusOf(request_.service());
    if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
      responder_.FinishWithError(grpc::Status(grpc::StatusCode::NOT_FOUND, "service name unknown"),
                                 this);
      return;
    }
    response_.set_status(status);
    responder_.Finish(response_, grpc::Status::OK, this);
  }

 private:
  AsyncHealthService& owner_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  HealthCheckRequest request_;
  HealthCheckResponse response_;
  grpc::ServerAsyncResponseWriter<HealthCheckResponse> responder_;
  bool finishing_ = false;
};

// --- Watch: server stream --------------------------------------------------

class AsyncHealthService::WatchCall {
 public:
  WatchCall(AsyncHealthService& owner, grpc::ServerCompletionQueue* cq)
      : owner_(owner),
        cq_(cq),
        writer_(&context_),
        request_tag_(this),
        write_tag_(this),
        finish_tag_(this),
        done_tag_(this) {
    context_.AsyncNotifyWhenDone(&done_tag_);
    owner_.service_.RequestWatch(&context_, &request_, &writer_, cq_, cq_, &request_tag_);
  }

  // Sends the service's status if it changed and nothing is in flight; once
  // the service is shut down, NOT_SERVING and then the end of the stream.
  void CatchUpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner_.mu_) {
    if (writing_ || finishing_ || broken_) return;
    const ServingStatus status = owner_.StatusOfLocked(request_.service());
    if (!sent_any_ || status != sent_) {
      WriteLocked(status);
    } else if (owner_.shut_down_) {
      finishing_ = true;
      writer_.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"),
                     &finish_tag_);
    }
  }

 private:
  void OnRequest(bool ok) {
    if (!ok) {  // never matched (shutdown): no done tag will come
      delete this;
      return;
    }
    new WatchCall(owner_, cq_);
    absl::MutexLock lock(&owner_.mu_);
    owner_.watches_.insert(this);
    CatchUpLocked();
  }

  void OnWriteDone(bool ok) {
    absl::MutexLock lock(&owner_.mu_);
    writing_ = false;
    if (!ok) broken_ = true;  // the client went away; the done tag follows
    CatchUpLocked();
    MaybeDeleteLocked();
  }

  void OnFinished(bool /*ok*/) {
    absl::MutexLock lock(&owner_.mu_);
    finished_ = true;
    MaybeDeleteLocked();
  }

  void OnDone(bool /*ok*/) {
    absl::MutexLock lock(&owner_.mu_);
    done_ = true;
    broken_ = true;  // finished or cancelled: no more writes
    owner_.watches_.erase(this);
    MaybeDeleteLocked();
  }

  void WriteLocked(ServingStatus status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner_.mu_) {
    sent_ = status;
    sent_any_ = true;
    writing_ = true;
    response_.set_status(status);
    writer_.Write(response_, &write_tag_);
  }

  void MaybeDeleteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner_.mu_) {
    if (done_ && !writing_ && (!finishing_ || finished_)) delete this;
  }

  AsyncHealthService& owner_;
  grpc::ServerCompletionQueue* const cq_;
  grpc::ServerContext context_;
  HealthCheckRequest request_;
  HealthCheckResponse response_;
  grpc::ServerAsyncWriter<HealthCheckResponse> writer_;
  MemberTag<WatchCall, &WatchCall::OnRequest> request_tag_;
  MemberTag<WatchCall, &WatchCall::OnWriteDone> write_tag_;
  MemberTag<WatchCall, &WatchCall::OnFinished> finish_tag_;
  MemberTag<WatchCall, &WatchCall::OnDone> done_tag_;
  ServingStatus sent_ ABSL_GUARDED_BY(owner_.mu_) = HealthCheckResponse::UNKNOWN;
  bool sent_any_ ABSL_GUARDED_BY(owner_.mu_) = false;
  bool writing_ ABSL_GUARDED_BY(owner_.mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(owner_.mu_) = false;
  bool finished_ ABSL_GUARDED_BY(owner_.mu_) = false;
  bool broken_ ABSL_GUARDED_BY(owner_.mu_) = false;
  bool done_ ABSL_GUARDED_BY(owner_.mu_) = false;
};

// --- The service -----------------------------------------------------------

AsyncHealthService::AsyncHealthService() { statuses_[""] = HealthCheckResponse::SERVING; }

AsyncHealthService::~AsyncHealthService() = default;

std::unique_ptr<grpc::ServerBuilderOption> AsyncHealthService::BuilderOption() {
  return std::make_unique<grpc::HealthCheckServiceServerBuilderOption>(
      std::make_unique<Forwarder>(*this));
}

void AsyncHealthService::Start(grpc::ServerCompletionQueue* cq) {
  new CheckCall(*this, cq);
  new WatchCall(*this, cq);
}

void AsyncHealthService::SetServingStatus(const std::string& service, bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  statuses_[service] = serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  NotifyWatchesLocked();
}

void AsyncHealthService::SetServingStatus(bool serving) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  for (auto& [service, status] : statuses_) {
    status = serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
  }
  NotifyWatchesLocked();
}

void AsyncHealthService::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return;
  for (auto& [service, status] : statuses_) status = HealthCheckResponse::NOT_SERVING;
  shut_down_ = true;
  NotifyWatchesLocked();
}

AsyncHealthService::ServingStatus AsyncHealthService::StatusOf(const std::string& service) {
  absl::ReaderMutexLock lock(&mu_);
  return StatusOfLocked(service);
}

AsyncHealthService::ServingStatus AsyncHealthService::StatusOfLocked(
    const std::string& service) const {
  auto it = statuses_.find(service);
  return it == statuses_.end() ? HealthCheckResponse::SERVICE_UNKNOWN : it->second;
}

// The analysis cannot see that every watch's owner_ is *this.
void AsyncHealthService::NotifyWatchesLocked() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (WatchCall* watch : watches_) watch->CatchUpLocked();
}

}  // namespace kv
