#ifndef KV_COMMON_ERROR_SPACE_H_
#define KV_COMMON_ERROR_SPACE_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kv {

// Some errors need a finer HTTP status than their gRPC code gives (413 for
// an oversize value, 414 for an oversize key, 10009/10013 Cloudflare codes).
// They carry it as a Status payload, which every boundary may read; the
// gRPC code stays the primary classification.

// Returns `status` with an HTTP status and a Cloudflare error code attached.
absl::Status WithHttpDetail(absl::Status status, int http_status, int cf_code);

struct HttpDetail {
  int http_status = 0;
  int cf_code = 0;
};
std::optional<HttpDetail> GetHttpDetail(const absl::Status& status);

// Cloudflare error codes used by the REST API (reference/rest-api-v4.md).
inline constexpr int kCfAuthError = 10000;
inline constexpr int kCfBadRequest = 10001;
inline constexpr int kCfKeyNotFound = 10009;
inline constexpr int kCfNamespaceNotFound = 10013;
inline constexpr int kCfDuplicateTitle = 10014;
inline constexpr int kCfLimit = 10020;

}  // namespace kv

#endif  // KV_COMMON_ERROR_SPACE_H_
