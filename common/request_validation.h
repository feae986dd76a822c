#ifndef KV_COMMON_REQUEST_VALIDATION_H_
#define KV_COMMON_REQUEST_VALIDATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/limits.h"
#include "proto/kv.pb.h"

namespace kv {

// Whole-request checks of the client API, shared by centrals and edges so
// both reject the same requests with the same messages (see validation.h
// for the single checks). None of them looks at stored data.

// Key, value size, metadata and expiration of one put. Returns the
// expiration resolved at `now` (absolute Unix seconds, 0 = none).
absl::StatusOr<int64_t> ValidatePut(const kv::v1::PutRequest& request, absl::Time now,
                                    const Limits& limits);

// Count, total size and every entry of a bulk put, before anything is
// written. Returns each entry's resolved expiration, in order. Errors name
// the entry's index and key.
absl::StatusOr<std::vector<int64_t>> ValidateBulkPut(const kv::v1::BulkPutRequest& request,
                                                     absl::Time now, const Limits& limits);

absl::Status ValidateBulkDelete(const kv::v1::BulkDeleteRequest& request,
                                const Limits& limits);

// Key count, every key and cache_ttl of a get.
absl::Status ValidateGet(const kv::v1::GetRequest& request, const Limits& limits);

}  // namespace kv

#endif  // KV_COMMON_REQUEST_VALIDATION_H_
