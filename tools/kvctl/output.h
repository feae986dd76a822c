#ifndef KV_TOOLS_KVCTL_OUTPUT_H_
#define KV_TOOLS_KVCTL_OUTPUT_H_

// What kvctl prints on stdout: raw bytes (values, binary-safe: write(2), no
// added newline) or JSON documents; and whether `--output json` was asked.
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace kv::kvctl {

// Writes every byte; exits 1 when stdout fails (e.g. a closed pipe).
void WriteStdout(absl::string_view data);
// Pretty JSON and a newline (invalid UTF-8 replaced by U+FFFD).
std::string Dump(const nlohmann::ordered_json& json);
// --output json (exits 2 on an unknown --output).
bool JsonOutput();
// Metadata text as JSON (a string when it is not valid JSON).
nlohmann::ordered_json MetadataJson(const std::string& text);
// Whether `s` is valid UTF-8 (values in JSON output are strings when it
// is, else base64 with "base64": true).
bool IsUtf8(absl::string_view s);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_OUTPUT_H_
