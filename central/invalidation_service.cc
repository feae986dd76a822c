#include "central/invalidation_service.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
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

InvalidationService::InvalidationService(StreamHub& hub, Storage& storage,
                                         const TokenAuthenticator& auth)
    : hub_(hub), storage_(storage), auth_(auth) {}

absl::Status InvalidationService::AuthorizeEdgeCall(
    const grpc::CallbackServerContext& context) const {
  absl::string_view header;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    header = absl::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<Principal> principal = auth_.Authenticate(header);
  return principal.ok() ? auth_.AuthorizeEdge(*principal) : principal.status();
}

grpc::ServerWriteReactor<InvalidationMessage>* InvalidationService::Subscribe(
    grpc::CallbackServerContext* context, const kv::v1::SubscribeRequest* request) {
  const absl::Status status = AuthorizeEdgeCall(*context);
  if (!status.ok()) {
    LOG(WARNING) << "invalidation stream refused for edge '" << request->edge_id()
                 << "' from " << context->peer() << ": " << status;
    return new RefusedReactor(status);
  }
  auto* reactor = new SubscribeReactor();
  reactor->Attach(hub_, *request);
  return reactor;
}

grpc::ServerUnaryReactor* InvalidationService::Revalidate(
    grpc::CallbackServerContext* context, const kv::v1::RevalidateRequest* request,
    kv::v1::RevalidateResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = AuthorizeEdgeCall(*context);
  if (status.ok()) status = RevalidateKeys(*request, *response);
  if (!status.ok()) response->Clear();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

absl::Status InvalidationService::RevalidateKeys(const kv::v1::RevalidateRequest& request,
                                                 kv::v1::RevalidateResponse& response) {
  if (request.keys_size() > kMaxRevalidateKeys) {
    return absl::InvalidArgumentError(absl::StrCat("Revalidate takes at most ",
                                                   kMaxRevalidateKeys, " keys, got ",
                                                   request.keys_size()));
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
