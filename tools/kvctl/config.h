#ifndef KV_TOOLS_KVCTL_CONFIG_H_
#define KV_TOOLS_KVCTL_CONFIG_H_

// Where kvctl connects and as whom: flags win over the environment
// (KV_GRPC_ADDR, KV_TOKEN, KV_ACCOUNT), which wins over a config file,
// which wins over the defaults (127.0.0.1:7100, no token, the token's own
// account).
//
// A config file has `name = value` lines; names are `addr`, `token`,
// `account` or their environment spellings, so a `kvctl dev` cluster.env
// (`KV_GRPC_ADDR='127.0.0.1:7100'`) is a valid config file. Values may be
// quoted with ' or "; `export ` is allowed; `#` starts a comment line;
// other names are ignored.
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv::kvctl {

struct Endpoint {
  std::string addr;
  std::string token;
  std::string account;
  // A CA file (PEM): the node serves TLS and is verified against it.
  // Empty: plain text.
  std::string tls_ca;
};

// Name (lower-cased, KV_ spellings mapped) -> value. INVALID_ARGUMENT naming
// the line for a line without `=`.
absl::StatusOr<std::map<std::string, std::string>> ParseConfig(absl::string_view text);

struct EndpointSources {
  std::string flag_addr, flag_token, flag_account, flag_tls_ca;
  // The --config flag; empty: $KVCTL_CONFIG, else the default file if any.
  std::string flag_config;
  // Reads an environment variable ("" when unset).
  std::function<std::string(const char*)> getenv;
};

// NOT_FOUND when a config file named by flag or $KVCTL_CONFIG cannot be
// read; INVALID_ARGUMENT when a config file is malformed.
absl::StatusOr<Endpoint> ResolveEndpoint(const EndpointSources& sources);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_CONFIG_H_
