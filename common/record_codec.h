#ifndef KV_COMMON_RECORD_CODEC_H_
#define KV_COMMON_RECORD_CODEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/record.h"

namespace kv {

// The byte encoding of a Record, as stored in RocksDB and sent between
// nodes. Layout (little-endian fixed-width integers):
//   u8  format (1)
//   u8  flags (bit 0 tombstone, bit 1 has metadata)
//   u64 version.physical_ms, u32 version.logical, u32 version.node_id
//   i64 expiration
//   u32 metadata length, metadata bytes (when bit 1 is set)
//   value bytes (the rest)
// The header comes first so expiration and version can be read without
// copying the value (compaction filter, version checks).

std::string EncodeRecord(const Record& record);

// The same without the value (header and metadata): what the central's key
// index stores. Decodes (DecodeRecord) as `record` with an empty value.
std::string EncodeRecordHead(const Record& record);

// DATA_LOSS when `bytes` is not a well-formed encoding. Never crashes on any
// input.
absl::StatusOr<Record> DecodeRecord(absl::string_view bytes);

// The fields of the header alone, for callers that need no value.
struct RecordHeader {
  Version version;
  int64_t expiration = 0;
  bool tombstone = false;
};
absl::StatusOr<RecordHeader> DecodeRecordHeader(absl::string_view bytes);

}  // namespace kv

#endif  // KV_COMMON_RECORD_CODEC_H_
