#ifndef KV_TOOLS_KVCTL_HEALTH_CHECK_H_
#define KV_TOOLS_KVCTL_HEALTH_CHECK_H_

// A client of the standard gRPC health service (grpc.health.v1.Health/Check
// of one service; "" is the server as a whole), for `kvctl health` (container
// and Kubernetes probes) and `kvctl dev` (waiting for its nodes).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace kv::kvctl {

// OK when `addr` answers SERVING for `service` within `timeout`; otherwise
// UNAVAILABLE naming the address and why (unreachable, the handshake failed,
// NOT_SERVING, an unknown service, ...). Blocks.
absl::Status CheckServing(const std::string& addr,
                          const std::shared_ptr<grpc::ChannelCredentials>& credentials,
                          absl::Duration timeout, const std::string& service = "");

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_HEALTH_CHECK_H_
