#include "common/deadlock_detection.h"

#include <cstdlib>
#include <cstring>

#include "absl/synchronization/mutex.h"

namespace kv {

void ConfigureMutexDeadlockDetection() {
  const char* keep = std::getenv("KV_MUTEX_DEADLOCK_DETECTION");
  if (keep != nullptr && std::strcmp(keep, "1") == 0) return;
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace kv
