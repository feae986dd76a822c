#ifndef KV_COMMON_LOGGING_H_
#define KV_COMMON_LOGGING_H_

// The project's one logger: glog 0.6 (abseil 20220623 has no absl/log).
// LOG(INFO|WARNING|ERROR|FATAL), VLOG(n), CHECK* come from here.
#include <glog/logging.h>

namespace kv {
// Logs to stderr; call once from main.
void InitLogging(const char* argv0);
}  // namespace kv

#endif  // KV_COMMON_LOGGING_H_
