#include "common/grpc_auth.h"

#include "common/status_macros.h"

namespace kv {

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
