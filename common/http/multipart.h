#ifndef KV_COMMON_HTTP_MULTIPART_H_
#define KV_COMMON_HTTP_MULTIPART_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv::http {

// One part of a multipart/form-data body (RFC 7578).
struct FormPart {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::string data;
};

// True when `content_type` is multipart/form-data (any parameters).
bool IsMultipartFormData(absl::string_view content_type);

// Splits `body` by the boundary named in `content_type`. INVALID_ARGUMENT
// with a precise message for a missing boundary, a truncated body or a
// part without a form-data name.
absl::StatusOr<std::vector<FormPart>> ParseMultipartFormData(absl::string_view content_type,
                                                             absl::string_view body);

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_MULTIPART_H_
