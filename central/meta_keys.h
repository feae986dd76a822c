#ifndef KV_CENTRAL_META_KEYS_H_
#define KV_CENTRAL_META_KEYS_H_

#include <optional>
#include <string>

#include "absl/base/internal/endian.h"
#include "absl/strings/string_view.h"
#include "common/version.h"

namespace kv::central {

// Keys of the "meta" column family and their encodings.

// The change log's incarnation id (32 hex chars), written once when the data
// dir is created.
inline constexpr char kMetaIncarnationKey[] = "incarnation";
// The highest version committed, rewritten by every commit batch: the HLC
// floor on open.
inline constexpr char kMetaMaxVersionKey[] = "max_version";
// Present once the key index (RecordStore) holds every record: data dirs
// written before it existed get it built on open.
inline constexpr char kMetaKeyIndexBuiltKey[] = "key_index_built";

// 16 bytes: u64 physical_ms, u32 logical, u32 node_id, little-endian.
inline std::string EncodeMetaVersion(const Version& version) {
  std::string out(16, '\0');
  absl::little_endian::Store64(out.data(), version.physical_ms);
  absl::little_endian::Store32(out.data() + 8, version.logical);
  absl::little_endian::Store32(out.data() + 12, version.node_id);
  return out;
}

// nullopt when `bytes` is not 16 bytes long.
inline std::optional<Version> DecodeMetaVersion(absl::string_view bytes) {
  if (bytes.size() != 16) return std::nullopt;
  Version version;
  version.physical_ms = absl::little_endian::Load64(bytes.data());
  version.logical = absl::little_endian::Load32(bytes.data() + 8);
  version.node_id = absl::little_endian::Load32(bytes.data() + 12);
  return version;
}

}  // namespace kv::central

#endif  // KV_CENTRAL_META_KEYS_H_
