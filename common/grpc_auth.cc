#include "common/grpc_auth.h"

#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace kv {

RequestContext RequestContextOf(const grpc::ServerContext& context) {
  RequestContext out;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    out.authorization.assign(it->second.data(), it->second.size());
  }
  const auto deadline = context.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    out.deadline = absl::FromChrono(deadline);
  }
  return out;
}

absl::StatusOr<std::string> AuthorizeCall(const TokenAuthenticator& auth,
                                          const RequestContext& context,
                                          absl::string_view requested_account,
                                          Scope needed) {
  KV_ASSIGN_OR_RETURN(Principal principal, auth.Authenticate(context.authorization));
  return auth.Authorize(principal, requested_account, needed);
}

absl::StatusOr<std::string> AuthorizeCall(const TokenAuthenticator& auth,
                                          const grpc::ServerContext& context,
                                          absl::string_view requested_account,
                                          Scope needed) {
  absl::string_view header;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    header = absl::string_view(it->second.data(), it->second.size());
  }
  KV_ASSIGN_OR_RETURN(Principal principal, auth.Authenticate(header));
  return auth.Authorize(principal, requested_account, needed);
}

}  // namespace kv
