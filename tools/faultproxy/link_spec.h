#ifndef KV_TOOLS_FAULTPROXY_LINK_SPEC_H_
#define KV_TOOLS_FAULTPROXY_LINK_SPEC_H_

// The --links flag of kv-faultproxy: links to create at startup.

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/faultproxy/net_util.h"

namespace kv::faultproxy {

struct LinkSpec {
  std::string name;
  HostPort listen{"127.0.0.1", 0};
  std::optional<HostPort> target;
};

// Parses "NAME[@LISTEN_HOST:PORT][=TARGET_HOST:PORT]", e.g. "c1",
// "c1=127.0.0.1:7100", "c1@127.0.0.1:7101=127.0.0.1:7100". INVALID_ARGUMENT
// naming the part that is wrong.
absl::StatusOr<LinkSpec> ParseLinkSpec(absl::string_view text);

}  // namespace kv::faultproxy

#endif  // KV_TOOLS_FAULTPROXY_LINK_SPEC_H_
