#include "common/record_codec.h"

#include <cstring>

#include "absl/base/internal/endian.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kv {
namespace {

constexpr uint8_t kFormat = 1;
constexpr uint8_t kFlagTombstone = 1;
constexpr uint8_t kFlagMetadata = 2;
// format + flags + physical + logical + node + expiration
constexpr size_t kHeaderBytes = 1 + 1 + 8 + 4 + 4 + 8;

template <typename T>
void AppendFixed(std::string* out, T v) {
  char buf[sizeof(T)];
  if constexpr (sizeof(T) == 8) {
    absl::little_endian::Store64(buf, static_cast<uint64_t>(v));
  } else {
    absl::little_endian::Store32(buf, static_cast<uint32_t>(v));
  }
  out->append(buf, sizeof(T));
}

absl::Status Malformed(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("malformed record: ", what));
}

// Appends the header and metadata of `record` (everything but the value).
void AppendHead(std::string* out, const Record& record) {
  out->push_back(static_cast<char>(kFormat));
  uint8_t flags = 0;
  if (record.tombstone) flags |= kFlagTombstone;
  if (record.metadata) flags |= kFlagMetadata;
  out->push_back(static_cast<char>(flags));
  AppendFixed<uint64_t>(out, record.version.physical_ms);
  AppendFixed<uint32_t>(out, record.version.logical);
  AppendFixed<uint32_t>(out, record.version.node_id);
  AppendFixed<int64_t>(out, record.expiration);
  if (record.metadata) {
    AppendFixed<uint32_t>(out, static_cast<uint32_t>(record.metadata->size()));
    out->append(*record.metadata);
  }
}

size_t HeadBytes(const Record& record) {
  return kHeaderBytes + (record.metadata ? 4 + record.metadata->size() : 0);
}

}  // namespace

std::string EncodeRecord(const Record& record) {
  std::string out;
  out.reserve(HeadBytes(record) + record.value.size());
  AppendHead(&out, record);
  out.append(record.value);
  return out;
}

std::string EncodeRecordHead(const Record& record) {
  std::string out;
  out.reserve(HeadBytes(record));
  AppendHead(&out, record);
  return out;
}

absl::StatusOr<RecordHeader> DecodeRecordHeader(absl::string_view bytes) {
  if (bytes.size() < kHeaderBytes) return Malformed("shorter than its header");
  const char* p = bytes.data();
  if (static_cast<uint8_t>(p[0]) != kFormat) {
    return Malformed(absl::StrCat("unknown format ", static_cast<int>(p[0])));
  }
  const uint8_t flags = static_cast<uint8_t>(p[1]);
  if ((flags & ~(kFlagTombstone | kFlagMetadata)) != 0) {
    return Malformed("unknown flags");
  }
  RecordHeader header;
  header.tombstone = (flags & kFlagTombstone) != 0;
  header.version.physical_ms = absl::little_endian::Load64(p + 2);
  header.version.logical = absl::little_endian::Load32(p + 10);
  header.version.node_id = absl::little_endian::Load32(p + 14);
  header.expiration = static_cast<int64_t>(absl::little_endian::Load64(p + 18));
  return header;
}

absl::StatusOr<Record> DecodeRecord(absl::string_view bytes) {
  absl::StatusOr<RecordHeader> header = DecodeRecordHeader(bytes);
  if (!header.ok()) return header.status();
  Record record;
  record.version = header->version;
  record.expiration = header->expiration;
  record.tombstone = header->tombstone;
  size_t pos = kHeaderBytes;
  const uint8_t flags = static_cast<uint8_t>(bytes[1]);
  if (flags & kFlagMetadata) {
    if (bytes.size() - pos < 4) return Malformed("truncated metadata length");
    const uint32_t metadata_bytes = absl::little_endian::Load32(bytes.data() + pos);
    pos += 4;
    if (bytes.size() - pos < metadata_bytes) return Malformed("truncated metadata");
    record.metadata = std::string(bytes.substr(pos, metadata_bytes));
    pos += metadata_bytes;
  }
  record.value = std::string(bytes.substr(pos));
  return record;
}

}  // namespace kv
