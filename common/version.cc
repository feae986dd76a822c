#include "common/version.h"

#include "absl/strings/str_cat.h"

namespace kv {

std::string Version::ToString() const {
  return absl::StrCat(physical_ms, ".", logical, "@", node_id);
}

Version Version::FromProto(const kv::v1::Version& proto) {
  return Version{proto.physical_ms(), proto.logical(), proto.node_id()};
}

void Version::ToProto(kv::v1::Version* proto) const {
  proto->set_physical_ms(physical_ms);
  proto->set_logical(logical);
  proto->set_node_id(node_id);
}

}  // namespace kv
