#ifndef KV_TOOLS_KVCTL_CLIENT_H_
#define KV_TOOLS_KVCTL_CLIENT_H_

// kvctl's connection to one node: the stub, a per-call context carrying the
// bearer token and deadline, and the mapping of a failed call to one error
// line and an exit code. Not thread-safe (kvctl is single-threaded).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/kv.grpc.pb.h"
#include "tools/kvctl/config.h"

namespace kv::kvctl {

class Client {
 public:
  Client(Endpoint endpoint, absl::Duration timeout);

  kv::v1::Kv::Stub& stub() { return *stub_; }
  const std::string& account() const { return endpoint_.account; }
  const std::string& addr() const { return endpoint_.addr; }

  // A fresh context: `authorization: Bearer <token>` and the deadline.
  std::unique_ptr<grpc::ClientContext> Context() const;

  // Returns when `status` is OK; otherwise exits with one line naming the
  // server's message and code (UNAVAILABLE also names the address).
  // `context`, when not empty, starts the line ("after 3000 of 10000 keys").
  void Check(const grpc::Status& status, absl::string_view context = "") const;

 private:
  Endpoint endpoint_;
  absl::Duration timeout_;
  std::unique_ptr<kv::v1::Kv::Stub> stub_;
};

// The endpoint from flags, environment and config file; exits 6 on a
// missing or malformed config file.
Endpoint EndpointFromFlagsOrDie();
// How to dial `endpoint`: plain text, or TLS verified against its CA file;
// exits 6 naming the file when it cannot be read.
std::shared_ptr<grpc::ChannelCredentials> CredentialsOrDie(const Endpoint& endpoint);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_CLIENT_H_
