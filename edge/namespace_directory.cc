#include "edge/namespace_directory.h"

#include "common/error_space.h"
#include "common/grpc_status.h"

namespace kv::edge {

std::optional<absl::Status> NamespaceDirectory::CheckKnown(absl::string_view account_id,
                                                           absl::string_view namespace_id) {
  absl::MutexLock lock(&mu_);
  auto it = account_of_.find(namespace_id);
  if (it == account_of_.end()) return std::nullopt;
  if (it->second == account_id) return absl::OkStatus();
  return WithHttpDetail(absl::NotFoundError("namespace not found"), 404, kCfNamespaceNotFound);
}

absl::Status NamespaceDirectory::Check(absl::string_view account_id,
                                       absl::string_view namespace_id,
                                       absl::string_view authorization) {
  if (std::optional<absl::Status> known = CheckKnown(account_id, namespace_id)) return *known;
  kv::v1::GetNamespaceRequest request;
  request.set_account_id(std::string(account_id));
  request.set_namespace_id(std::string(namespace_id));
  kv::v1::Namespace response;
  const grpc::Status status =
      pool_.Call(authorization, [&](kv::v1::Kv::Stub& stub, grpc::ClientContext& context) {
        return stub.GetNamespace(&context, request, &response);
      });
  if (!status.ok()) {
    absl::Status s = FromGrpcStatus(status);
    if (s.code() == absl::StatusCode::kNotFound) {
      return WithHttpDetail(std::move(s), 404, kCfNamespaceNotFound);
    }
    return s;
  }
  absl::MutexLock lock(&mu_);
  account_of_[namespace_id] = std::string(account_id);
  return absl::OkStatus();
}

void NamespaceDirectory::Forget(absl::string_view namespace_id) {
  absl::MutexLock lock(&mu_);
  account_of_.erase(namespace_id);
}

}  // namespace kv::edge
