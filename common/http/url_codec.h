#ifndef KV_COMMON_HTTP_URL_CODEC_H_
#define KV_COMMON_HTTP_URL_CODEC_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv::http {

// A path segment: %XX decoded, nothing else ('+' stays '+'). nullopt for a
// '%' not followed by two hex digits.
std::optional<std::string> PercentDecode(absl::string_view in);

// A query string decoded as application/x-www-form-urlencoded ('+' is a
// space). INVALID_ARGUMENT naming the parameter for a bad escape.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
absl::StatusOr<QueryParams> ParseQuery(absl::string_view query);

// The first value of `name`, or nullptr.
const std::string* FindParam(const QueryParams& params, absl::string_view name);

// A decimal integer parameter; nullopt when absent. INVALID_ARGUMENT when
// present but not an integer.
absl::StatusOr<std::optional<int64_t>> IntParam(const QueryParams& params,
                                                absl::string_view name);

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_URL_CODEC_H_
