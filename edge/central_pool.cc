#include "edge/central_pool.h"

#include <chrono>

#include "common/tls.h"

namespace kv::edge {

grpc::ChannelArguments NodeChannelArguments() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(128 << 20);
  args.SetMaxSendMessageSize(128 << 20);
  // Reconnect fast after a central restarts.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return args;
}

CentralPool::CentralPool(const std::vector<std::string>& addrs, absl::Duration rpc_timeout,
                         std::shared_ptr<grpc::ChannelCredentials> credentials)
    : addrs_(addrs), rpc_timeout_(rpc_timeout) {
  credentials = PeerCredentials(std::move(credentials));
  for (const std::string& addr : addrs_) {
    channels_.push_back(grpc::CreateCustomChannel(addr, credentials, NodeChannelArguments()));
    stubs_.push_back(kv::v1::Kv::NewStub(channels_.back()));
  }
}

void CentralPool::Prepare(grpc::ClientContext& context, absl::string_view authorization) const {
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(rpc_timeout_));
  if (!authorization.empty()) {
    context.AddMetadata("authorization", std::string(authorization));
  }
}

}  // namespace kv::edge
