#ifndef KV_COMMON_GRPC_CODE_NAME_H_
#define KV_COMMON_GRPC_CODE_NAME_H_

#include <grpcpp/support/status.h>

namespace kv {

// "OK", "NOT_FOUND", ... for a gRPC status code ("UNKNOWN" for a value
// outside the enum). A library of its own (kv_grpc_code_name) so that
// kvctl, which does not link kv_common, shares it with the servers.
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace kv

#endif  // KV_COMMON_GRPC_CODE_NAME_H_
