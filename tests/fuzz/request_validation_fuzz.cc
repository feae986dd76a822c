// Fuzzes the client API's whole-request checks (common/request_validation),
// which centrals and edges run on every gRPC write and read before anything
// else: the input's first byte picks the message (put, bulk put, bulk
// delete, get), the rest is its protobuf wire form (inputs that do not parse
// are what gRPC would refuse first). Nothing may crash; what is accepted
// keeps every limit (keys, value size, metadata JSON, entry and key counts,
// expirations at least the minimum TTL ahead, cache_ttl at least its
// minimum); a refusal says why.
#include <cstddef>
#include <cstdint>

#include "common/limits.h"
#include "common/request_validation.h"
#include "common/validation.h"
#include "proto/kv.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// A fixed clock: expirations are checked against it.
const absl::Time kNow = absl::FromUnixSeconds(1'764'000'000);

void CheckExpiration(int64_t resolved, const kv::Limits& limits) {
  KV_FUZZ_CHECK(resolved == 0 ||
                resolved >= absl::ToUnixSeconds(kNow + limits.min_ttl));
}

template <typename Entry>
void CheckAcceptedEntry(const Entry& entry, const kv::Limits& limits) {
  KV_FUZZ_CHECK(kv::ValidateKey(entry.key(), limits).ok());
  KV_FUZZ_CHECK(entry.value().size() <= limits.max_value_bytes);
  if (entry.has_metadata()) KV_FUZZ_CHECK(kv::ValidateMetadata(entry.metadata(), limits).ok());
}

// An accepted list of keys: 1..max of them, each a valid key.
void CheckAcceptedKeys(const google::protobuf::RepeatedPtrField<std::string>& keys, size_t max,
                       const kv::Limits& limits) {
  KV_FUZZ_CHECK(!keys.empty() && static_cast<size_t>(keys.size()) <= max);
  for (const std::string& key : keys) KV_FUZZ_CHECK(kv::ValidateKey(key, limits).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  kv::Limits limits;
  limits.max_value_bytes = 64;  // small limits, within a fuzzer's reach
  limits.max_metadata_bytes = 32;
  limits.max_get_keys = 4;
  limits.max_bulk_entries = 4;
  const uint8_t kind = data[0] % 4;
  ++data;
  --size;
  if (kind == 0) {
    kv::v1::PutRequest request;
    if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
    const absl::StatusOr<int64_t> expiration = kv::ValidatePut(request, kNow, limits);
    kv::CheckRefusalSaysWhy(expiration.status());
    if (!expiration.ok()) return 0;
    CheckAcceptedEntry(request, limits);
    CheckExpiration(*expiration, limits);
  } else if (kind == 1) {
    kv::v1::BulkPutRequest request;
    if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
    const absl::StatusOr<std::vector<int64_t>> expirations =
        kv::ValidateBulkPut(request, kNow, limits);
    kv::CheckRefusalSaysWhy(expirations.status());
    if (!expirations.ok()) return 0;
    KV_FUZZ_CHECK(request.entries_size() >= 1 &&
                  static_cast<size_t>(request.entries_size()) <= limits.max_bulk_entries);
    KV_FUZZ_CHECK(expirations->size() == static_cast<size_t>(request.entries_size()));
    for (int i = 0; i < request.entries_size(); ++i) {
      CheckAcceptedEntry(request.entries(i), limits);
      CheckExpiration((*expirations)[i], limits);
    }
  } else if (kind == 2) {
    kv::v1::BulkDeleteRequest request;
    if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
    const absl::Status status = kv::ValidateBulkDelete(request, limits);
    kv::CheckRefusalSaysWhy(status);
    if (!status.ok()) return 0;
    CheckAcceptedKeys(request.keys(), limits.max_bulk_entries, limits);
  } else {
    kv::v1::GetRequest request;
    if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
    const absl::Status status = kv::ValidateGet(request, limits);
    kv::CheckRefusalSaysWhy(status);
    if (!status.ok()) return 0;
    CheckAcceptedKeys(request.keys(), limits.max_get_keys, limits);
    KV_FUZZ_CHECK(request.cache_ttl() == 0 ||
                  request.cache_ttl() >= absl::ToInt64Seconds(limits.min_cache_ttl));
  }
  return 0;
}
