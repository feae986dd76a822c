#ifndef KV_COMMON_RECORD_H_
#define KV_COMMON_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "common/version.h"

namespace kv {

// The stored state of one key: a live value or a tombstone, with the
// version of the mutation that produced it.
struct Record {
  std::string value;
  // Serialized JSON; nullopt when the key has no metadata.
  std::optional<std::string> metadata;
  // Absolute Unix seconds; 0 when the record never expires.
  int64_t expiration = 0;
  Version version;
  bool tombstone = false;

  // True when the record is past its expiration at `now`: a key whose
  // expiration second has been reached is gone.
  bool IsExpiredAt(absl::Time now) const {
    return expiration != 0 && absl::ToUnixSeconds(now) >= expiration;
  }
  // Readable: not a tombstone and not expired at `now`.
  bool IsLiveAt(absl::Time now) const { return !tombstone && !IsExpiredAt(now); }
};

}  // namespace kv

#endif  // KV_COMMON_RECORD_H_
