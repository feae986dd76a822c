// Invariants of SubscribeCall:
//  - its state is guarded by the service's mutex (so deleting a call never
//    races with unlocking a mutex of its own), and no lock is held while it
//    calls into its HubStream (which calls back into SendMessage/SendFinish);
//  - at most one Write is in flight, and Finish is started only once no Write
//    is (a Finish asked for meanwhile waits for the write's completion);
//  - it is deleted once gRPC has reported it done (AsyncNotifyWhenDone,
//    delivered for every matched call), its Finish has completed (the hub
//    makes no call after SendFinish, so nothing refers to it any more), no
//    Write is in flight and no thread is inside one of its event handlers;
//    it then detaches its HubStream. An unmatched call (its request failed
//    at shutdown) gets no done event and is deleted at once.
#include "central/invalidation_service.h"

#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/async_unary_call.h"
#include "common/completion_tag.h"
#include "common/grpc_auth.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/tls.h"

namespace kv::central {

using kv::v1::InvalidationMessage;

class InvalidationService::SubscribeCall final : public StreamWriter {
 public:
  explicit SubscribeCall(InvalidationService& owner)
      : owner_(owner),
        writer_(&context_),
        request_tag_(this),
        write_tag_(this),
        finish_tag_(this),
        done_tag_(this) {
    context_.AsyncNotifyWhenDone(&done_tag_);
    owner_.service_.RequestSubscribe(&context_, &request_, &writer_, owner_.cq_, owner_.cq_,
                                     &request_tag_);
  }

  // StreamWriter: called by the HubStream, never two at once.
  void SendMessage(const InvalidationMessage& message) override {
    absl::MutexLock lock(&owner_.mu_);
    write_in_flight_ = true;
    writer_.Write(message, &write_tag_);
  }
  void SendFinish(const absl::Status& status) override {
    absl::MutexLock lock(&owner_.mu_);
    if (write_in_flight_) {
      pending_finish_ = status;
    } else {
      StartFinishLocked(status);
    }
  }

 private:
  void OnRequest(bool ok) {
    if (!ok) {  // never matched (shutdown): no done event will come
      delete this;
      return;
    }
    {
      absl::MutexLock lock(&owner_.mu_);
      ++owner_.active_;
      ++busy_;
      if (!owner_.shutting_down_) new SubscribeCall(owner_);  // the next one
    }
    const absl::Status status = owner_.AuthorizeEdgeCall(RequestContextOf(context_).authorization,
                                 HasVerifiedClientCertificate(context_));
    std::shared_ptr<HubStream> stream;
    {
      absl::MutexLock lock(&owner_.mu_);
      if (!status.ok()) {
        LOG(WARNING) << "invalidation stream refused for edge '" << request_.edge_id() << "' from "
                     << context_.peer() << ": " << status;
        StartFinishLocked(status);
      } else {
        // Under the lock: the hub's pump may run the stream (and a write
        // complete) before Subscribe returns; they wait for stream_.
        absl::StatusOr<std::shared_ptr<HubStream>> subscribed =
            owner_.hub_.Subscribe(request_, this);
        if (subscribed.ok()) {
          stream_ = *std::move(subscribed);
          stream = stream_;
        } else {
          StartFinishLocked(subscribed.status());
        }
      }
    }
    if (stream != nullptr) stream->Run();  // the Hello
    Leave();
  }

  void OnWriteDone(bool ok) {
    std::shared_ptr<HubStream> stream;
    {
      absl::MutexLock lock(&owner_.mu_);
      write_in_flight_ = false;
      ++busy_;
      stream = stream_;
    }
    if (stream != nullptr) stream->OnWriteDone(ok);
    {
      absl::MutexLock lock(&owner_.mu_);
      if (pending_finish_.has_value() && !write_in_flight_) {
        const absl::Status status = *std::move(pending_finish_);
        pending_finish_.reset();
        StartFinishLocked(status);
      }
    }
    Leave();
  }

  void OnFinished(bool /*ok*/) {
    absl::MutexLock lock(&owner_.mu_);
    finished_ = true;
    MaybeDeleteLocked();
  }

  void OnDone(bool /*ok*/) {
    std::shared_ptr<HubStream> stream;
    {
      absl::MutexLock lock(&owner_.mu_);
      done_ = true;
      ++busy_;
      if (context_.IsCancelled()) stream = stream_;
    }
    // The client went away (or the server is shutting down): the hub
    // finishes the stream, which completes at once on a cancelled call.
    if (stream != nullptr) stream->OnCancel();
    Leave();
  }

  void StartFinishLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner_.mu_) {
    if (finishing_) return;
    finishing_ = true;
    writer_.Finish(ToGrpcStatus(status), &finish_tag_);
  }

  // The end of an event handler that called out without the lock.
  void Leave() ABSL_LOCKS_EXCLUDED(owner_.mu_) {
    absl::MutexLock lock(&owner_.mu_);
    --busy_;
    MaybeDeleteLocked();
  }

  void MaybeDeleteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(owner_.mu_) {
    if (!done_ || !finished_ || write_in_flight_ || busy_ > 0) return;
    if (stream_ != nullptr) stream_->Detach();
    --owner_.active_;
    delete this;
  }

  InvalidationService& owner_;
  grpc::ServerContext context_;
  kv::v1::SubscribeRequest request_;
  grpc::ServerAsyncWriter<InvalidationMessage> writer_;
  MemberTag<SubscribeCall, &SubscribeCall::OnRequest> request_tag_;
  MemberTag<SubscribeCall, &SubscribeCall::OnWriteDone> write_tag_;
  MemberTag<SubscribeCall, &SubscribeCall::OnFinished> finish_tag_;
  MemberTag<SubscribeCall, &SubscribeCall::OnDone> done_tag_;
  std::shared_ptr<HubStream> stream_ ABSL_GUARDED_BY(owner_.mu_);
  std::optional<absl::Status> pending_finish_ ABSL_GUARDED_BY(owner_.mu_);
  int busy_ ABSL_GUARDED_BY(owner_.mu_) = 0;
  bool write_in_flight_ ABSL_GUARDED_BY(owner_.mu_) = false;
  bool finishing_ ABSL_GUARDED_BY(owner_.mu_) = false;
  bool finished_ ABSL_GUARDED_BY(owner_.mu_) = false;
  bool done_ ABSL_GUARDED_BY(owner_.mu_) = false;
};

InvalidationService::InvalidationService(StreamHub& hub, Storage& storage,
                                         const TokenAuthenticator& auth,
                                         bool require_node_certificate)
    : hub_(hub),
      storage_(storage),
      auth_(auth),
      require_node_certificate_(require_node_certificate) {}

InvalidationService::~InvalidationService() { Shutdown(); }

void InvalidationService::Start(grpc::ServerCompletionQueue* cq) {
  cq_ = cq;
  // Revalidate reads the disk: two threads, so one slow read does not hold
  // the other edges' calls.
  readers_ = std::make_unique<ThreadPool>(2, "kv-revalidate");
  new SubscribeCall(*this);
  using Call = AsyncUnaryCall<kv::v1::Invalidation::AsyncService, kv::v1::RevalidateRequest,
                              kv::v1::RevalidateResponse>;
  auto method = std::make_shared<Call::Method>();
  method->service = &service_;
  method->cq = cq_;
  method->request_method = &kv::v1::Invalidation::AsyncService::RequestRevalidate;
  method->handler = [this](Call& call) {
    BeginCall();
    readers_->Submit([this, &call] {
      absl::Status status = AuthorizeEdgeCall(call.context().authorization, call.HasNodeCertificate());
      if (status.ok()) status = RevalidateKeys(call.request(), *call.response());
      if (!status.ok()) call.response()->Clear();
      call.Finish(ToGrpcStatus(status));
      EndCall();
    });
  };
  Call::Arm(std::move(method));
}

void InvalidationService::BeginCall() {
  absl::MutexLock lock(&mu_);
  ++active_;
}

void InvalidationService::EndCall() {
  absl::MutexLock lock(&mu_);
  --active_;
}

void InvalidationService::Shutdown() {
  if (shut_down_ || cq_ == nullptr) return;
  shut_down_ = true;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return active_ == 0; };
    mu_.Await(absl::Condition(&idle));
  }
  readers_.reset();
}

absl::Status InvalidationService::AuthorizeEdgeCall(absl::string_view authorization,
                                                    bool node_certificate) const {
  if (absl::Status s = CheckNodeCertificate(require_node_certificate_, node_certificate);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<Principal> principal = auth_.Authenticate(authorization);
  return principal.ok() ? auth_.AuthorizeEdge(*principal) : principal.status();
}

absl::Status InvalidationService::RevalidateKeys(const kv::v1::RevalidateRequest& request,
                                                 kv::v1::RevalidateResponse& response) {
  if (request.keys_size() > kMaxRevalidateKeys) {
    return absl::InvalidArgumentError(absl::StrCat("Revalidate takes at most ", kMaxRevalidateKeys,
                                                   " keys, got ", request.keys_size()));
  }
  for (int i = 0; i < request.keys_size(); ++i) response.add_keys();
  // One read per run of keys of the same namespace (edges send them grouped).
  for (int begin = 0; begin < request.keys_size();) {
    const std::string& ns = request.keys(begin).namespace_id();
    int end = begin;
    std::vector<std::string> keys;
    while (end < request.keys_size() && request.keys(end).namespace_id() == ns) {
      keys.push_back(request.keys(end).key());
      ++end;
    }
    // Versions alone, from the key index: no value is read.
    absl::StatusOr<std::vector<std::optional<Version>>> versions =
        storage_.LiveVersions(ns, keys);
    if (versions.ok()) {
      for (int i = begin; i < end; ++i) {
        const std::optional<Version>& version = (*versions)[static_cast<size_t>(i - begin)];
        if (!version) continue;
        kv::v1::RevalidateResponse::Current* out = response.mutable_keys(i);
        out->set_found(true);
        version->ToProto(out->mutable_version());
      }
    } else if (versions.status().code() != absl::StatusCode::kNotFound) {
      return versions.status();  // the read gate, or a storage error
    }
    // NOT_FOUND: the namespace is gone (or unknown): none of its keys is live.
    begin = end;
  }
  return absl::OkStatus();
}

}  // namespace kv::central
