#ifndef KV_TOOLS_KVCTL_DEV_HEALTH_CHECK_H_
#define KV_TOOLS_KVCTL_DEV_HEALTH_CHECK_H_

// A client of the standard gRPC health service (grpc.health.v1.Health/Check
// for the server as a whole, service ""), through a generic stub: the two
// messages are encoded by hand, so no health .proto has to be compiled.
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace kv::kvctl {

// OK when `addr` answers SERVING within `timeout`; UNAVAILABLE with the
// reason otherwise (unreachable, NOT_SERVING, ...). Blocks.
absl::Status CheckServing(const std::string& addr, absl::Duration timeout);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_DEV_HEALTH_CHECK_H_
