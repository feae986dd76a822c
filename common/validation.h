#ifndef KV_COMMON_VALIDATION_H_
#define KV_COMMON_VALIDATION_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/limits.h"

namespace kv {

// Checks of every Workers KV limit. Each returns OK or INVALID_ARGUMENT
// (RESOURCE_EXHAUSTED for the namespace count) with the wording users know
// from miniflare (reference/limits-and-semantics.md), naming the limit and
// the actual size, and with the HTTP status the REST API answers (400, 413
// or 414) attached through WithHttpDetail.

// 1..max_key_bytes of valid UTF-8, not "." or "..".
absl::Status ValidateKey(absl::string_view key, const Limits& limits);
// A list prefix: at most max_key_bytes, valid UTF-8 (may be empty).
absl::Status ValidatePrefix(absl::string_view prefix, const Limits& limits);
absl::Status ValidateValueSize(size_t value_bytes, const Limits& limits);
// Valid JSON of at most max_metadata_bytes.
absl::Status ValidateMetadata(absl::string_view metadata_json, const Limits& limits);

// Resolves a put's expiration to absolute Unix seconds (0 = none) at `now`:
// expiration_ttl (when non-zero) wins over expiration. Both must reach at
// least min_ttl into the future.
absl::StatusOr<int64_t> ResolveExpiration(int64_t expiration, int64_t expiration_ttl,
                                          absl::Time now, const Limits& limits);

// cache_ttl of a read, in seconds; 0 means "not given".
absl::Status ValidateCacheTtl(int64_t cache_ttl_seconds, const Limits& limits);
// A list page size; 0 means "not given" (the default, max_list_limit).
absl::StatusOr<uint32_t> ResolveListLimit(int64_t limit, const Limits& limits);
// Keys in one get: 1..max_get_keys.
absl::Status ValidateGetKeyCount(size_t count, const Limits& limits);
// Entries in one bulk put or bulk delete: 1..max_bulk_entries.
absl::Status ValidateBulkCount(size_t count, const Limits& limits);
// 1..max_title_bytes of valid UTF-8.
absl::Status ValidateNamespaceTitle(absl::string_view title, const Limits& limits);
// 32 lowercase hex characters.
absl::Status ValidateNamespaceId(absl::string_view id);
// 1..64 characters of letters, digits, "-" or "_" (Cloudflare account ids
// are 32 lowercase hex characters; any such id is accepted).
absl::Status ValidateAccountId(absl::string_view id);

bool IsValidUtf8(absl::string_view s);

}  // namespace kv

#endif  // KV_COMMON_VALIDATION_H_
