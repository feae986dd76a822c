#ifndef KV_COMMON_HLC_H_
#define KV_COMMON_HLC_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/version.h"

namespace kv {

// A hybrid logical clock (Kulkarni et al.): versions follow wall time in
// milliseconds but never go back, even when the wall clock does, and are
// unique per node (node_id is part of every version).
// Thread-safe.
class Hlc {
 public:
  // `clock` must outlive the Hlc.
  Hlc(Clock& clock, uint32_t node_id);

  // Returns a version greater than every version this Hlc has returned or
  // observed (Now/Observe/AdvanceTo).
  Version Now() ABSL_LOCKS_EXCLUDED(mu_);

  // Advances past a version received from another node. Returns
  // INVALID_ARGUMENT, observing nothing, when `remote` is more than
  // `max_offset` ahead of the local wall clock.
  absl::Status Observe(const Version& remote, absl::Duration max_offset)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Never issue a version at or below `floor` (the highest stored version,
  // on open), whatever the wall clock says.
  void AdvanceTo(const Version& floor) ABSL_LOCKS_EXCLUDED(mu_);

  // The latest version issued or observed.
  Version Last() const ABSL_LOCKS_EXCLUDED(mu_);

  uint32_t node_id() const { return node_id_; }

 private:
  Clock& clock_;
  const uint32_t node_id_;
  mutable absl::Mutex mu_;
  uint64_t last_physical_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t last_logical_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kv

#endif  // KV_COMMON_HLC_H_
