#include "tools/kvctl/bulk_file.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace kv::kvctl {
namespace {

constexpr char kBase64Chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

absl::StatusOr<nlohmann::json> ParseArray(absl::string_view text, absl::string_view what) {
  nlohmann::json json = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                              /*allow_exceptions=*/false);
  if (json.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  if (!json.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("expected a JSON array of ", what));
  }
  return json;
}

absl::Status EntryError(size_t i, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("entry ", i, ": ", message));
}

// An integer field: a JSON integer (or an integral number).
absl::StatusOr<int64_t> IntField(const nlohmann::json& item, const char* name, size_t i) {
  const nlohmann::json& v = item[name];
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
  }
  return EntryError(i, absl::StrCat("\"", name, "\" must be an integer"));
}

}  // namespace

absl::StatusOr<std::vector<kv::v1::BulkPutEntry>> ParseBulkPutFile(absl::string_view text) {
  absl::StatusOr<nlohmann::json> json = ParseArray(text, "{\"key\", \"value\"} objects");
  if (!json.ok()) return json.status();
  std::vector<kv::v1::BulkPutEntry> out;
  out.reserve(json->size());
  for (size_t i = 0; i < json->size(); ++i) {
    const nlohmann::json& item = (*json)[i];
    if (!item.is_object()) return EntryError(i, "expected an object");
    if (!item.contains("key") || !item["key"].is_string()) {
      return EntryError(i, "\"key\" must be a string");
    }
    if (!item.contains("value") || !item["value"].is_string()) {
      return EntryError(i, "\"value\" must be a string");
    }
    kv::v1::BulkPutEntry entry;
    entry.set_key(item["key"].get<std::string>());
    bool base64 = false;
    if (item.contains("base64")) {
      if (!item["base64"].is_boolean()) return EntryError(i, "\"base64\" must be true or false");
      base64 = item["base64"].get<bool>();
    }
    std::string value = item["value"].get<std::string>();
    if (base64) {
      absl::StatusOr<std::string> decoded = Base64Decode(value);
      if (!decoded.ok()) {
        return EntryError(i, absl::StrCat("\"value\" is not valid base64: ",
                                          decoded.status().message()));
      }
      value = *std::move(decoded);
    }
    entry.set_value(std::move(value));
    if (item.contains("metadata") && !item["metadata"].is_null()) {
      entry.set_metadata(item["metadata"].dump());
    }
    if (item.contains("expiration")) {
      absl::StatusOr<int64_t> v = IntField(item, "expiration", i);
      if (!v.ok()) return v.status();
      entry.set_expiration(*v);
    }
    if (item.contains("expiration_ttl")) {
      absl::StatusOr<int64_t> v = IntField(item, "expiration_ttl", i);
      if (!v.ok()) return v.status();
      entry.set_expiration_ttl(*v);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseKeyListFile(absl::string_view text) {
  absl::StatusOr<nlohmann::json> json = ParseArray(text, "key names");
  if (!json.ok()) return json.status();
  std::vector<std::string> out;
  out.reserve(json->size());
  for (size_t i = 0; i < json->size(); ++i) {
    const nlohmann::json& item = (*json)[i];
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    } else if (item.is_object() && item.contains("name") && item["name"].is_string()) {
      out.push_back(item["name"].get<std::string>());
    } else {
      return EntryError(i, "expected a key name (a string)");
    }
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(absl::string_view in) {
  const absl::string_view chars(kBase64Chars);
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char c : in) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    const size_t v = chars.find(c);
    if (v == absl::string_view::npos || padding) {
      return absl::InvalidArgumentError(
          padding ? "data after '=' padding" : absl::StrCat("unexpected character '", std::string(1, c), "'"));
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::string Base64Encode(absl::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(in[i]) << 16) |
                       (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    out.push_back(kBase64Chars[(n >> 18) & 63]);
    out.push_back(kBase64Chars[(n >> 12) & 63]);
    out.push_back(kBase64Chars[(n >> 6) & 63]);
    out.push_back(kBase64Chars[n & 63]);
  }
  if (i + 1 == in.size()) {
    const uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out.push_back(kBase64Chars[(n >> 18) & 63]);
    out.push_back(kBase64Chars[(n >> 12) & 63]);
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t n = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out.push_back(kBase64Chars[(n >> 18) & 63]);
    out.push_back(kBase64Chars[(n >> 12) & 63]);
    out.push_back(kBase64Chars[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

}  // namespace kv::kvctl
