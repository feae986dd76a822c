#include "tools/kvctl/client.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_code_name.h"
#include "common/tls.h"
#include "tools/kvctl/exit_codes.h"
#include "tools/kvctl/flags.h"

namespace kv::kvctl {
namespace {
constexpr int kMaxMessageBytes = 128 << 20;
}  // namespace

Client::Client(Endpoint endpoint, absl::Duration timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  stub_ = kv::v1::Kv::NewStub(
      grpc::CreateCustomChannel(endpoint_.addr, CredentialsOrDie(endpoint_), args));
}

std::shared_ptr<grpc::ChannelCredentials> CredentialsOrDie(const Endpoint& endpoint) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ClientChannelCredentials(endpoint.tls_ca);
  if (!credentials.ok()) Die(kExitBadInput, credentials.status().message());
  return *std::move(credentials);
}

std::unique_ptr<grpc::ClientContext> Client::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!endpoint_.token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", endpoint_.token));
  }
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

void Client::Check(const grpc::Status& status, absl::string_view context) const {
  if (status.ok()) return;
  std::string message = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    message = absl::StrCat(endpoint_.addr, " is unavailable: ", message);
  }
  Die(ExitCodeFor(status.error_code()),
      absl::StrCat(context, context.empty() ? "" : ": ", message, " (", GrpcCodeName(status.error_code()), ")"));
}

Endpoint EndpointFromFlagsOrDie() {
  EndpointSources sources;
  sources.flag_addr = absl::GetFlag(FLAGS_addr);
  sources.flag_token = absl::GetFlag(FLAGS_token);
  sources.flag_account = absl::GetFlag(FLAGS_account);
  sources.flag_tls_ca = absl::GetFlag(FLAGS_tls_ca);
  sources.flag_config = absl::GetFlag(FLAGS_config);
  sources.getenv = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v == nullptr ? "" : v;
  };
  absl::StatusOr<Endpoint> endpoint = ResolveEndpoint(sources);
  if (!endpoint.ok()) Die(kExitBadInput, endpoint.status().message());
  return *std::move(endpoint);
}

}  // namespace kv::kvctl
