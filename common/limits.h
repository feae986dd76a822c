#ifndef KV_COMMON_LIMITS_H_
#define KV_COMMON_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"

namespace kv {

// Workers KV's limits. Every node enforces the same values; the defaults are
// Cloudflare's, and the sizes and minimum times can be lowered for tests.
struct Limits {
  // Key length in bytes of UTF-8. Default: 512 (not configurable in
  // practice: workerd hard-codes it).
  size_t max_key_bytes = 512;
  // Value size. Default: 25 MiB.
  size_t max_value_bytes = size_t{25} << 20;
  // Serialized metadata JSON. Default: 1024 bytes.
  size_t max_metadata_bytes = 1024;
  // Minimum expiration_ttl, and how far in the future an absolute
  // expiration must be. Default: 60 s.
  absl::Duration min_ttl = absl::Seconds(60);
  // Minimum cache_ttl on reads. Default: 30 s.
  absl::Duration min_cache_ttl = absl::Seconds(30);
  // Keys per get. Default: 100.
  size_t max_get_keys = 100;
  // Total value bytes returned by one bulk get. Default: 25 MiB.
  size_t max_bulk_get_bytes = size_t{25} << 20;
  // Keys per list page. Default: 1000.
  uint32_t max_list_limit = 1000;
  // Entries per bulk put or bulk delete. Default: 10,000.
  size_t max_bulk_entries = 10000;
  // Bytes of one bulk request. Default: 100 MB.
  size_t max_bulk_request_bytes = 100'000'000;
  // Namespaces per account. Default: 100.
  size_t max_namespaces_per_account = 100;
  // Namespace title length in characters (bytes here). Default: 512.
  size_t max_title_bytes = 512;
};

}  // namespace kv

#endif  // KV_COMMON_LIMITS_H_
