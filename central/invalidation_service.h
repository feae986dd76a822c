#ifndef KV_CENTRAL_INVALIDATION_SERVICE_H_
#define KV_CENTRAL_INVALIDATION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "central/stream_hub.h"
#include "common/auth.h"
#include "proto/invalidation.grpc.pb.h"

namespace kv::central {

// kv.v1.Invalidation: the central → edge invalidation streams (DESIGN §4.3).
// Subscribe is authenticated from the `authorization` metadata and needs an
// edge token (or dev mode). Each call gets a reactor that the StreamHub
// feeds; the reactor never blocks and never reads the log itself.
// Thread-safe. `hub` and `auth` must outlive the gRPC server.
class InvalidationService final : public kv::v1::Invalidation::CallbackService {
 public:
  InvalidationService(StreamHub& hub, const TokenAuthenticator& auth);

  grpc::ServerWriteReactor<kv::v1::InvalidationMessage>* Subscribe(
      grpc::CallbackServerContext* context, const kv::v1::SubscribeRequest* request) override;

 private:
  StreamHub& hub_;
  const TokenAuthenticator& auth_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_INVALIDATION_SERVICE_H_
