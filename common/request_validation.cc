#include "common/request_validation.h"

#include "absl/strings/str_cat.h"
#include "common/error_space.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace kv {
namespace {

absl::StatusOr<int64_t> ValidateEntry(const std::string& key, size_t value_bytes,
                                      const std::string* metadata, int64_t expiration,
                                      int64_t expiration_ttl, absl::Time now,
                                      const Limits& limits) {
  KV_RETURN_IF_ERROR(ValidateKey(key, limits));
  KV_RETURN_IF_ERROR(ValidateValueSize(value_bytes, limits));
  if (metadata != nullptr) KV_RETURN_IF_ERROR(ValidateMetadata(*metadata, limits));
  return ResolveExpiration(expiration, expiration_ttl, now, limits);
}

std::string Quoted(const std::string& key) {
  return absl::StrCat("\"", absl::string_view(key).substr(0, 64),
                      key.size() > 64 ? "...\"" : "\"");
}

}  // namespace

absl::StatusOr<int64_t> ValidatePut(const kv::v1::PutRequest& request, absl::Time now,
                                    const Limits& limits) {
  return ValidateEntry(request.key(), request.value().size(),
                       request.has_metadata() ? &request.metadata() : nullptr,
                       request.expiration(), request.expiration_ttl(), now, limits);
}

absl::StatusOr<std::vector<int64_t>> ValidateBulkPut(const kv::v1::BulkPutRequest& request,
                                                     absl::Time now, const Limits& limits) {
  KV_RETURN_IF_ERROR(ValidateBulkCount(request.entries_size(), limits));
  std::vector<int64_t> expirations;
  expirations.reserve(request.entries_size());
  size_t total_bytes = 0;
  for (int i = 0; i < request.entries_size(); ++i) {
    const kv::v1::BulkPutEntry& e = request.entries(i);
    total_bytes += e.key().size() + e.value().size() + e.metadata().size();
    if (total_bytes > limits.max_bulk_request_bytes) {
      return WithHttpDetail(absl::InvalidArgumentError(absl::StrCat(
                                "A bulk write of more than ", limits.max_bulk_request_bytes,
                                " bytes exceeds the request size limit.")),
                            413, kCfLimit);
    }
    absl::StatusOr<int64_t> expiration =
        ValidateEntry(e.key(), e.value().size(), e.has_metadata() ? &e.metadata() : nullptr,
                      e.expiration(), e.expiration_ttl(), now, limits);
    if (!expiration.ok()) {
      return Annotate(expiration.status(), absl::StrCat("entry ", i, " (key ", Quoted(e.key()), ")"));
    }
    expirations.push_back(*expiration);
  }
  return expirations;
}

absl::Status ValidateBulkDelete(const kv::v1::BulkDeleteRequest& request,
                                const Limits& limits) {
  KV_RETURN_IF_ERROR(ValidateBulkCount(request.keys_size(), limits));
  for (int i = 0; i < request.keys_size(); ++i) {
    absl::Status s = ValidateKey(request.keys(i), limits);
    if (!s.ok()) return Annotate(s, absl::StrCat("key ", i, " (", Quoted(request.keys(i)), ")"));
  }
  return absl::OkStatus();
}

absl::Status ValidateGet(const kv::v1::GetRequest& request, const Limits& limits) {
  KV_RETURN_IF_ERROR(ValidateGetKeyCount(request.keys_size(), limits));
  KV_RETURN_IF_ERROR(ValidateCacheTtl(request.cache_ttl(), limits));
  for (const std::string& key : request.keys()) KV_RETURN_IF_ERROR(ValidateKey(key, limits));
  return absl::OkStatus();
}

}  // namespace kv
