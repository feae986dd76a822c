#include "tools/faultproxy/faults.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace kv::faultproxy {
namespace {

using nlohmann::json;

absl::Status ParseDelay(const json& value, absl::string_view field, absl::Duration& out) {
  if (!value.is_number()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", field, "\" must be a number of milliseconds, not ", value.dump()));
  }
  const double ms = value.get<double>();
  if (!(ms >= 0) || ms > static_cast<double>(kMaxDelayMs)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", field, "\" is ", value.dump(),
                                                   "; it must be in 0..", kMaxDelayMs));
  }
  out = absl::Microseconds(static_cast<int64_t>(ms * 1000));
  return absl::OkStatus();
}

absl::Status ParseDirectionDelays(const json& object, absl::string_view prefix,
                                  DirectionFaults& out) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", prefix, "\" must be an object, not ", object.dump()));
  }
  for (const auto& [key, value] : object.items()) {
    if (key == "latency_ms") {
      if (absl::Status s = ParseDelay(value, absl::StrCat(prefix, ".latency_ms"), out.latency);
          !s.ok()) {
        return s;
      }
    } else if (key == "jitter_ms") {
      if (absl::Status s = ParseDelay(value, absl::StrCat(prefix, ".jitter_ms"), out.jitter);
          !s.ok()) {
        return s;
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown field \"", prefix, ".", key,
                                                     "\" (known: latency_ms, jitter_ms)"));
    }
  }
  return absl::OkStatus();
}

// "none|up|down|both" -> (up, down).
absl::Status ParseDirections(const json& value, absl::string_view field, bool& up, bool& down) {
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (text == "none") {
      up = down = false;
      return absl::OkStatus();
    }
    if (text == "up") {
      up = true;
      down = false;
      return absl::OkStatus();
    }
    if (text == "down") {
      up = false;
      down = true;
      return absl::OkStatus();
    }
    if (text == "both") {
      up = down = true;
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", field, "\" is ", value.dump(), "; it must be \"none\", \"up\", \"down\" or \"both\""));
}

std::string DirectionsName(bool up, bool down) {
  if (up && down) return "both";
  if (up) return "up";
  if (down) return "down";
  return "none";
}

json DirectionJson(const DirectionFaults& d) {
  return json{{"latency_ms", absl::ToDoubleMilliseconds(d.latency)},
              {"jitter_ms", absl::ToDoubleMilliseconds(d.jitter)}};
}

}  // namespace

absl::Status ApplyFaultPatch(const json& patch, LinkFaults& faults) {
  if (!patch.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the fault body must be a JSON object, not ", patch.dump()));
  }
  LinkFaults out = faults;
  // Both-direction delays first, so "up"/"down" objects win regardless of
  // the order of the fields.
  for (const char* field : {"latency_ms", "jitter_ms"}) {
    auto it = patch.find(field);
    if (it == patch.end()) continue;
    absl::Duration d;
    if (absl::Status s = ParseDelay(*it, field, d); !s.ok()) return s;
    if (std::string(field) == "latency_ms") {
      out.up.latency = out.down.latency = d;
    } else {
      out.up.jitter = out.down.jitter = d;
    }
  }
  for (const auto& [key, value] : patch.items()) {
    if (key == "latency_ms" || key == "jitter_ms") continue;
    if (key == "up") {
      if (absl::Status s = ParseDirectionDelays(value, "up", out.up); !s.ok()) return s;
    } else if (key == "down") {
      if (absl::Status s = ParseDirectionDelays(value, "down", out.down); !s.ok()) return s;
    } else if (key == "blackhole") {
      if (absl::Status s = ParseDirections(value, key, out.up.blackhole, out.down.blackhole);
          !s.ok()) {
        return s;
      }
    } else if (key == "drop") {
      if (absl::Status s = ParseDirections(value, key, out.up.drop, out.down.drop); !s.ok()) {
        return s;
      }
    } else if (key == "refuse") {
      if (!value.is_boolean()) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"refuse\" must be true or false, not ", value.dump()));
      }
      out.refuse = value.get<bool>();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown field \"", key,
                       "\" (known: latency_ms, jitter_ms, up, down, blackhole, drop, refuse)"));
    }
  }
  faults = out;
  return absl::OkStatus();
}

json FaultsToJson(const LinkFaults& faults) {
  return json{{"up", DirectionJson(faults.up)},
              {"down", DirectionJson(faults.down)},
              {"blackhole", DirectionsName(faults.up.blackhole, faults.down.blackhole)},
              {"drop", DirectionsName(faults.up.drop, faults.down.drop)},
              {"refuse", faults.refuse}};
}

}  // namespace kv::faultproxy
