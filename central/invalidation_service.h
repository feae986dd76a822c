#ifndef KV_CENTRAL_INVALIDATION_SERVICE_H_
#define KV_CENTRAL_INVALIDATION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "central/storage.h"
#include "central/stream_hub.h"
#include "common/auth.h"
#include "proto/invalidation.grpc.pb.h"

namespace kv::central {

// kv.v1.Invalidation: the central → edge invalidation streams (DESIGN §4.3).
// Both calls are authenticated from the `authorization` metadata and need an
// edge token (or dev mode). Each Subscribe gets a reactor that the StreamHub
// feeds; the reactor never blocks and never reads the log itself. Revalidate
// answers the current versions of up to 1000 keys from `storage` (subject
// to its read gate), so an edge can keep what is still current.
// Thread-safe. `hub`, `storage` and `auth` must outlive the gRPC server.
class InvalidationService final : public kv::v1::Invalidation::CallbackService {
 public:
  // Most keys per Revalidate call.
  static constexpr int kMaxRevalidateKeys = 1000;

  InvalidationService(StreamHub& hub, Storage& storage, const TokenAuthenticator& auth);

  grpc::ServerWriteReactor<kv::v1::InvalidationMessage>* Subscribe(
      grpc::CallbackServerContext* context, const kv::v1::SubscribeRequest* request) override;

  grpc::ServerUnaryReactor* Revalidate(grpc::CallbackServerContext* context,
                                       const kv::v1::RevalidateRequest* request,
                                       kv::v1::RevalidateResponse* response) override;

 private:
  absl::Status AuthorizeEdgeCall(const grpc::CallbackServerContext& context) const;
  absl::Status RevalidateKeys(const kv::v1::RevalidateRequest& request,
                              kv::v1::RevalidateResponse& response);

  StreamHub& hub_;
  Storage& storage_;
  const TokenAuthenticator& auth_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_INVALIDATION_SERVICE_H_
