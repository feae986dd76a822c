#include "tools/faultproxy/link_spec.h"

#include "absl/strings/str_cat.h"
#include "tools/faultproxy/link_set.h"

namespace kv::faultproxy {

absl::StatusOr<LinkSpec> ParseLinkSpec(absl::string_view text) {
  LinkSpec spec;
  absl::string_view rest = text;
  if (const size_t eq = rest.find('='); eq != absl::string_view::npos) {
    absl::StatusOr<HostPort> target = ParseHostPort(rest.substr(eq + 1), false);
    if (!target.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("link \"", text, "\": target: ", target.status().message()));
    }
    spec.target = *target;
    rest = rest.substr(0, eq);
  }
  if (const size_t at = rest.find('@'); at != absl::string_view::npos) {
    absl::StatusOr<HostPort> listen = ParseHostPort(rest.substr(at + 1), true);
    if (!listen.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("link \"", text, "\": listen: ", listen.status().message()));
    }
    spec.listen = *listen;
    rest = rest.substr(0, at);
  }
  if (absl::Status s = ValidateLinkName(rest); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("link \"", text, "\": ", s.message()));
  }
  spec.name = std::string(rest);
  return spec;
}

}  // namespace kv::faultproxy
