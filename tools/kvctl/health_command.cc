// `kvctl health [SERVICE]`: the node's standard gRPC health, for container
// and Kubernetes probes that must speak TLS (the kubelet's own gRPC probe
// speaks plain text only).
#include <iostream>

#include "absl/flags/flag.h"
#include "tools/kvctl/client.h"
#include "tools/kvctl/commands.h"
#include "tools/kvctl/exit_codes.h"
#include "tools/kvctl/flags.h"
#include "tools/kvctl/health_check.h"

namespace kv::kvctl {

int Health(const Args& args) {
  ExpectArgs(args, 1, 2, "health [SERVICE]");
  const Endpoint endpoint = EndpointFromFlagsOrDie();
  const absl::Status serving =
      CheckServing(endpoint.addr, CredentialsOrDie(endpoint), absl::GetFlag(FLAGS_timeout),
                   args.size() > 1 ? args[1] : "");
  if (!serving.ok()) Die(kExitUnavailable, serving.message());
  std::cout << "SERVING\n";
  return 0;
}

}  // namespace kv::kvctl
