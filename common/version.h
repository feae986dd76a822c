#ifndef KV_COMMON_VERSION_H_
#define KV_COMMON_VERSION_H_

#include <compare>
#include <cstdint>
#include <string>

#include "proto/kv.pb.h"

namespace kv {

// A hybrid-logical-clock version: wall milliseconds, a logical counter for
// events within one millisecond, and the id of the node that issued it as
// the tiebreak. Totally ordered; last writer wins by this order.
struct Version {
  uint64_t physical_ms = 0;
  uint32_t logical = 0;
  uint32_t node_id = 0;

  auto operator<=>(const Version&) const = default;
  bool IsZero() const { return physical_ms == 0 && logical == 0 && node_id == 0; }
  // "1732630000123.4@2"
  std::string ToString() const;

  static Version FromProto(const kv::v1::Version& proto);
  void ToProto(kv::v1::Version* proto) const;
};

}  // namespace kv

#endif  // KV_COMMON_VERSION_H_
