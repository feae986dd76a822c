#ifndef KV_COMMON_GRPC_AUTH_H_
#define KV_COMMON_GRPC_AUTH_H_

#include <grpcpp/server_context.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth.h"
#include "common/request_context.h"

namespace kv {

// The transport-neutral context of a gRPC call: its "authorization"
// metadata and deadline.
RequestContext RequestContextOf(const grpc::ServerContext& context);

// Authenticates a call by its authorization ("Bearer <token>") and
// authorizes it for `requested_account` (empty: the token's own) and
// `needed`. Returns the account the call acts on, UNAUTHENTICATED or
// PERMISSION_DENIED.
absl::StatusOr<std::string> AuthorizeCall(const TokenAuthenticator& auth,
                                          const RequestContext& context,
                                          absl::string_view requested_account, Scope needed);
absl::StatusOr<std::string> AuthorizeCall(const TokenAuthenticator& auth,
                                          const grpc::ServerContext& context,
                                          absl::string_view requested_account, Scope needed);

}  // namespace kv

#endif  // KV_COMMON_GRPC_AUTH_H_
