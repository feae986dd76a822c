#include "tools/kvctl/health_check.h"

#include "absl/strings/str_cat.h"
#include "proto/health.grpc.pb.h"

namespace kv::kvctl {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

absl::Status CheckServing(const std::string& addr,
                          const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                          absl::Duration timeout, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(addr, credentials));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  const std::string what =
      service.empty() ? addr : absl::StrCat(addr, " (service \"", service, "\")");
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat(what, ": health check failed: ", status.error_message()));
  }
  if (response.status() == HealthCheckResponse::SERVING) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat(what, " is ", HealthCheckResponse::ServingStatus_Name(response.status())));
}

}  // namespace kv::kvctl
