#ifndef KV_TOOLS_FAULTPROXY_FAULTS_H_
#define KV_TOOLS_FAULTPROXY_FAULTS_H_

// The faults one kv-faultproxy link applies, and their JSON form in the
// control API (docs/faultproxy.md).
//
// "up" is client -> target (bytes arriving at the link's listener), "down"
// is target -> client.

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace kv::faultproxy {

// The faults of one direction of a link.
struct DirectionFaults {
  // Added to every chunk read, before it is written on: `latency` plus a
  // uniform random part in [0, jitter]. Chunks keep their order (a chunk is
  // never written before the one read before it). Default: none.
  absl::Duration latency = absl::ZeroDuration();
  absl::Duration jitter = absl::ZeroDuration();
  // Nothing moves in this direction (nothing read, nothing written, not even
  // a FIN); connections stay open, and what was sent waits in socket buffers
  // to be delivered when the blackhole is cleared, as TCP retransmits after
  // a partition heals. Default: false.
  bool blackhole = false;
  // Bytes are read and thrown away (counted as dropped): the stream loses
  // them, as no real network does, so the receiver sees a torn stream.
  // Default: false.
  bool drop = false;

  bool operator==(const DirectionFaults& o) const {
    return latency == o.latency && jitter == o.jitter && blackhole == o.blackhole &&
           drop == o.drop;
  }
};

struct LinkFaults {
  DirectionFaults up;
  DirectionFaults down;
  // New connections are refused (the listener stops listening; connects get
  // ECONNREFUSED), current ones are untouched. Default: false.
  bool refuse = false;

  bool operator==(const LinkFaults& o) const {
    return up == o.up && down == o.down && refuse == o.refuse;
  }
};

// The longest latency or jitter accepted: 10 minutes.
inline constexpr int64_t kMaxDelayMs = 600'000;

// Applies a JSON patch to `faults`: only the fields present change.
//   {"latency_ms": N, "jitter_ms": N,           both directions
//    "up": {"latency_ms": N, "jitter_ms": N},   one direction (wins)
//    "down": {...},
//    "blackhole": "none|up|down|both",
//    "drop": "none|up|down|both",
//    "refuse": true|false}
// INVALID_ARGUMENT naming the field for an unknown field, a wrong type, a
// negative or too large delay, or an unknown direction; `faults` is then
// unchanged.
absl::Status ApplyFaultPatch(const nlohmann::json& patch, LinkFaults& faults);

// The full JSON form of `faults` (every field, per direction).
nlohmann::json FaultsToJson(const LinkFaults& faults);

}  // namespace kv::faultproxy

#endif  // KV_TOOLS_FAULTPROXY_FAULTS_H_
