#ifndef KV_CENTRAL_HOLDS_ALL_UNTIL_FILE_H_
#define KV_CENTRAL_HOLDS_ALL_UNTIL_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace kv::central {

// Keeps a central's holds_all_until (Replicator::HoldsAllUntil: a time
// before which it holds every write any central applied) across restarts,
// in a small file of its data dir, so that a central that was away knows,
// before its streams are complete again, from when it may have missed
// writes (AntiEntropyOptions::holds_all_until). Written without fsync: a
// value lost in an OS crash leaves an older one or none, and both only
// make the catch-up take in more tombstones, never fewer.

// The time in `path`; InfinitePast when the file is absent, unreadable or
// not one whole number of Unix milliseconds.
absl::Time ReadHoldsAllUntil(const std::string& path);

// Replaces `path` (a temporary file renamed over it) with `time`.
absl::Status WriteHoldsAllUntil(const std::string& path, absl::Time time);

}  // namespace kv::central

#endif  // KV_CENTRAL_HOLDS_ALL_UNTIL_FILE_H_
