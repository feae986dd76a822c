#ifndef KV_COMMON_GRPC_STATUS_H_
#define KV_COMMON_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace kv {

// The one conversion between absl::Status and grpc::Status (same numeric
// codes; the message is kept). An HTTP detail (common/error_space.h) rides
// in the status details as a google.rpc.Status whose one Any has type
// "type.kv/http_detail", so an edge forwarding a central's error answers
// HTTP clients with the central's HTTP status and Cloudflare code.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace kv

#endif  // KV_COMMON_GRPC_STATUS_H_
