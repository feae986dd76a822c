#include "common/hlc.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kv {

Hlc::Hlc(Clock& clock, uint32_t node_id) : clock_(clock), node_id_(node_id) {}

Version Hlc::Now() {
  const uint64_t wall_ms = static_cast<uint64_t>(absl::ToUnixMillis(clock_.TimeNow()));
  absl::MutexLock lock(&mu_);
  if (wall_ms > last_physical_ms_) {
    last_physical_ms_ = wall_ms;
    last_logical_ = 0;
  } else {
    ++last_logical_;
  }
  return Version{last_physical_ms_, last_logical_, node_id_};
}

absl::Status Hlc::Observe(const Version& remote, absl::Duration max_offset) {
  const int64_t wall_ms = absl::ToUnixMillis(clock_.TimeNow());
  const int64_t ahead_ms = static_cast<int64_t>(remote.physical_ms) - wall_ms;
  if (ahead_ms > absl::ToInt64Milliseconds(max_offset)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "version ", remote.ToString(), " is ", ahead_ms,
        " ms ahead of this node's clock; the maximum clock offset is ",
        absl::ToInt64Milliseconds(max_offset), " ms"));
  }
  absl::MutexLock lock(&mu_);
  if (remote.physical_ms > last_physical_ms_) {
    last_physical_ms_ = remote.physical_ms;
    last_logical_ = remote.logical;
  } else if (remote.physical_ms == last_physical_ms_) {
    last_logical_ = std::max(last_logical_, remote.logical);
  }
  return absl::OkStatus();
}

void Hlc::AdvanceTo(const Version& floor) {
  absl::MutexLock lock(&mu_);
  if (floor.physical_ms > last_physical_ms_ ||
      (floor.physical_ms == last_physical_ms_ && floor.logical > last_logical_)) {
    last_physical_ms_ = floor.physical_ms;
    last_logical_ = floor.logical;
  }
}

Version Hlc::Last() const {
  absl::MutexLock lock(&mu_);
  return Version{last_physical_ms_, last_logical_, node_id_};
}

}  // namespace kv
