#ifndef KV_TOOLS_KVCTL_BULK_FILE_H_
#define KV_TOOLS_KVCTL_BULK_FILE_H_

// Parsing of the JSON files `wrangler kv bulk` takes:
//  - put: an array of {"key", "value", "base64"?, "expiration"?,
//    "expiration_ttl"?, "metadata"?}; `value` is text, or base64 when
//    "base64" is true; metadata is any JSON value (sent serialized);
//  - get and delete: an array of key names (or {"name": ...} objects, as
//    `wrangler kv key list` prints them).
// Errors are INVALID_ARGUMENT naming the entry (0-based) and the field.
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/kv.pb.h"

namespace kv::kvctl {

absl::StatusOr<std::vector<kv::v1::BulkPutEntry>> ParseBulkPutFile(absl::string_view text);
absl::StatusOr<std::vector<std::string>> ParseKeyListFile(absl::string_view text);

// Standard base64 (padding optional, whitespace ignored); INVALID_ARGUMENT
// on any other character.
absl::StatusOr<std::string> Base64Decode(absl::string_view in);
std::string Base64Encode(absl::string_view in);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_BULK_FILE_H_
