#ifndef KV_COMMON_READY_FILE_H_
#define KV_COMMON_READY_FILE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace kv {

// Tells whoever started a node (tests, kvctl dev) that it serves and on
// which ports: writes `key=value` lines to `path`.tmp and renames it to
// `path`, so a reader never sees a partial file.
absl::Status WriteReadyFile(const std::string& path,
                            const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace kv

#endif  // KV_COMMON_READY_FILE_H_
