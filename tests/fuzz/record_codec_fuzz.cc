// Fuzzes the record codec (common/record_codec): the bytes a central reads
// back from RocksDB, or a peer sends, may be anything. Decoding must never
// crash; what decodes must encode back to a record that decodes to the same
// fields, and the header decoder must agree with the full decoder on the
// fields they share.
#include <cstddef>
#include <cstdint>

#include "common/record_codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// `got` (a RecordHeader or a Record) has `record`'s header fields.
template <typename HeaderOrRecord>
void CheckSameHeader(const absl::StatusOr<HeaderOrRecord>& got, const kv::Record& record) {
  KV_FUZZ_CHECK(got.ok());
  KV_FUZZ_CHECK(got->version == record.version);
  KV_FUZZ_CHECK(got->expiration == record.expiration);
  KV_FUZZ_CHECK(got->tombstone == record.tombstone);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<kv::Record> record = kv::DecodeRecord(bytes);
  const absl::StatusOr<kv::RecordHeader> header = kv::DecodeRecordHeader(bytes);
  if (!record.ok()) return 0;
  CheckSameHeader(header, *record);

  const absl::StatusOr<kv::Record> again = kv::DecodeRecord(kv::EncodeRecord(*record));
  CheckSameHeader(again, *record);
  KV_FUZZ_CHECK(again->value == record->value);
  KV_FUZZ_CHECK(again->metadata == record->metadata);

  // The head (no value) decodes to the same header.
  CheckSameHeader(kv::DecodeRecordHeader(kv::EncodeRecordHead(*record)), *record);
  return 0;
}
