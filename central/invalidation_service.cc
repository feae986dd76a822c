#include "central/invalidation_service.h"

#include <memory>
#include <utility>

#include "common/grpc_status.h"
#include "common/logging.h"

namespace kv::central {
namespace {

using kv::v1::InvalidationMessage;

// Finishes at once (refused call).
class RefusedReactor final : public grpc::ServerWriteReactor<InvalidationMessage> {
 public:
  explicit RefusedReactor(const absl::Status& status) { Finish(ToGrpcStatus(status)); }
  void OnDone() override { delete this; }
};

// One Subscribe call. Its HubStream decides what to send; this class only
// turns those decisions into StartWrite/Finish and reports completions.
class SubscribeReactor final : public grpc::ServerWriteReactor<InvalidationMessage>,
                               public StreamWriter {
 public:
  // REQUIRES: Attach() is called right after construction.
  SubscribeReactor() = default;

  // Registers with the hub; finishes the call when the hub refuses it.
  void Attach(StreamHub& hub, const kv::v1::SubscribeRequest& request) {
    absl::StatusOr<std::shared_ptr<HubStream>> stream = hub.Subscribe(request, this);
    if (!stream.ok()) {
      Finish(ToGrpcStatus(stream.status()));
      return;
    }
    stream_ = *std::move(stream);
    stream_->Run();  // the Hello
  }

  // StreamWriter.
  void SendMessage(const InvalidationMessage& message) override { StartWrite(&message); }
  void SendFinish(const absl::Status& status) override { Finish(ToGrpcStatus(status)); }

  // Reactions: none blocks (the hub's locks are held only briefly).
  void OnWriteDone(bool ok) override { stream_->OnWriteDone(ok); }
  void OnCancel() override {
    if (stream_ != nullptr) stream_->OnCancel();
  }
  void OnDone() override {
    if (stream_ != nullptr) stream_->Detach();
    delete this;
  }

 private:
  std::shared_ptr<HubStream> stream_;
};

}  // namespace

InvalidationService::InvalidationService(StreamHub& hub, const TokenAuthenticator& auth)
    : hub_(hub), auth_(auth) {}

grpc::ServerWriteReactor<InvalidationMessage>* InvalidationService::Subscribe(
    grpc::CallbackServerContext* context, const kv::v1::SubscribeRequest* request) {
  absl::string_view header;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    header = absl::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<Principal> principal = auth_.Authenticate(header);
  absl::Status status = principal.ok() ? auth_.AuthorizeEdge(*principal) : principal.status();
  if (!status.ok()) {
    LOG(WARNING) << "invalidation stream refused for edge '" << request->edge_id()
                 << "' from " << context->peer() << ": " << status;
    return new RefusedReactor(status);
  }
  auto* reactor = new SubscribeReactor();
  reactor->Attach(hub_, *request);
  return reactor;
}

}  // namespace kv::central
