#include "common/validation.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/error_space.h"

namespace kv {
namespace {

absl::Status BadRequest(std::string message, int http_status = 400) {
  return WithHttpDetail(absl::InvalidArgumentError(std::move(message)), http_status,
                        kCfBadRequest);
}

absl::Status KeyTooLong(size_t bytes, const Limits& limits) {
  return BadRequest(absl::StrCat("UTF-8 encoded length of ", bytes,
                                 " exceeds key length limit of ", limits.max_key_bytes,
                                 "."),
                    414);
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    int extra;
    uint32_t min;
    uint32_t cp;
    if (c < 0x80) {
      ++p;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

absl::Status ValidateKey(absl::string_view key, const Limits& limits) {
  if (key.empty()) return BadRequest("Key names must not be empty");
  if (key.size() > limits.max_key_bytes) return KeyTooLong(key.size(), limits);
  if (key == "." || key == "..") {
    return BadRequest(absl::StrCat("Illegal key name \"", key,
                                   "\". Please use a different name."));
  }
  if (!IsValidUtf8(key)) return BadRequest("Key names must be valid UTF-8");
  return absl::OkStatus();
}

absl::Status ValidatePrefix(absl::string_view prefix, const Limits& limits) {
  if (prefix.size() > limits.max_key_bytes) return KeyTooLong(prefix.size(), limits);
  if (!IsValidUtf8(prefix)) return BadRequest("The prefix must be valid UTF-8");
  return absl::OkStatus();
}

absl::Status ValidateValueSize(size_t value_bytes, const Limits& limits) {
  if (value_bytes > limits.max_value_bytes) {
    return BadRequest(absl::StrCat("Value length of ", value_bytes, " exceeds limit of ",
                                   limits.max_value_bytes, "."),
                      413);
  }
  return absl::OkStatus();
}

absl::Status ValidateMetadata(absl::string_view metadata_json, const Limits& limits) {
  if (metadata_json.size() > limits.max_metadata_bytes) {
    return BadRequest(absl::StrCat("Metadata length of ", metadata_json.size(),
                                   " exceeds limit of ", limits.max_metadata_bytes, "."),
                      413);
  }
  if (!nlohmann::json::accept(metadata_json.begin(), metadata_json.end())) {
    return BadRequest("Metadata must be valid JSON");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ResolveExpiration(int64_t expiration, int64_t expiration_ttl,
                                          absl::Time now, const Limits& limits) {
  const int64_t min_ttl = absl::ToInt64Seconds(limits.min_ttl);
  const int64_t now_s = absl::ToUnixSeconds(now);
  if (expiration_ttl != 0) {
    if (expiration_ttl < 0) {
      return BadRequest(absl::StrCat("Invalid expiration_ttl of ", expiration_ttl,
                                     ". Please specify integer greater than 0."));
    }
    if (expiration_ttl < min_ttl) {
      return BadRequest(absl::StrCat("Invalid expiration_ttl of ", expiration_ttl,
                                     ". Expiration TTL must be at least ", min_ttl, "."));
    }
    if (expiration_ttl > std::numeric_limits<int64_t>::max() - now_s) {
      return BadRequest(absl::StrCat("Invalid expiration_ttl of ", expiration_ttl,
                                     ". It is too large."));
    }
    return now_s + expiration_ttl;
  }
  if (expiration == 0) return int64_t{0};
  if (expiration <= now_s) {
    return BadRequest(absl::StrCat(
        "Invalid expiration of ", expiration,
        ". Please specify integer greater than the current number of seconds since "
        "the UNIX epoch."));
  }
  if (expiration < now_s + min_ttl) {
    return BadRequest(absl::StrCat("Invalid expiration of ", expiration,
                                   ". Expiration times must be at least ", min_ttl,
                                   " seconds in the future."));
  }
  return expiration;
}

absl::Status ValidateCacheTtl(int64_t cache_ttl_seconds, const Limits& limits) {
  if (cache_ttl_seconds == 0) return absl::OkStatus();
  const int64_t min = absl::ToInt64Seconds(limits.min_cache_ttl);
  if (cache_ttl_seconds < min) {
    return BadRequest(absl::StrCat("Invalid cache_ttl of ", cache_ttl_seconds,
                                   ". Cache TTL must be at least ", min, "."));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ResolveListLimit(int64_t limit, const Limits& limits) {
  if (limit == 0) return limits.max_list_limit;
  if (limit < 0) {
    return BadRequest(absl::StrCat("Invalid key_count_limit of ", limit,
                                   ". Please specify an integer greater than 0."));
  }
  if (limit > static_cast<int64_t>(limits.max_list_limit)) {
    return BadRequest(absl::StrCat("Invalid key_count_limit of ", limit,
                                   ". Please specify an integer less than ",
                                   limits.max_list_limit, "."));
  }
  return static_cast<uint32_t>(limit);
}

absl::Status ValidateGetKeyCount(size_t count, const Limits& limits) {
  if (count == 0) return BadRequest("You must request a minimum of 1 key");
  if (count > limits.max_get_keys) {
    return BadRequest(absl::StrCat("You can request a maximum of ", limits.max_get_keys,
                                   " keys"));
  }
  return absl::OkStatus();
}

absl::Status ValidateBulkCount(size_t count, const Limits& limits) {
  if (count == 0) return BadRequest("A bulk request must name at least 1 key");
  if (count > limits.max_bulk_entries) {
    return BadRequest(absl::StrCat("A bulk request of ", count,
                                   " entries exceeds the limit of ",
                                   limits.max_bulk_entries, " entries."));
  }
  return absl::OkStatus();
}

absl::Status ValidateNamespaceTitle(absl::string_view title, const Limits& limits) {
  if (title.empty()) return BadRequest("A namespace title must not be empty");
  if (title.size() > limits.max_title_bytes) {
    return BadRequest(absl::StrCat("A namespace title of ", title.size(),
                                   " bytes exceeds the limit of ", limits.max_title_bytes,
                                   "."));
  }
  if (!IsValidUtf8(title)) return BadRequest("A namespace title must be valid UTF-8");
  return absl::OkStatus();
}

absl::Status ValidateNamespaceId(absl::string_view id) {
  bool ok = id.size() == 32;
  for (char c : id) ok = ok && (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
  if (!ok) {
    return WithHttpDetail(
        absl::NotFoundError(absl::StrCat(
            "namespace not found: a namespace id is 32 lowercase hex characters, got \"",
            id.substr(0, 64), "\"")),
        404, kCfNamespaceNotFound);
  }
  return absl::OkStatus();
}

absl::Status ValidateAccountId(absl::string_view id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) ok = ok && (absl::ascii_isalnum(c) || c == '-' || c == '_');
  if (!ok) {
    return BadRequest(absl::StrCat(
        "invalid account id \"", id.substr(0, 64),
        "\": 1 to 64 letters, digits, '-' or '_' are allowed"));
  }
  return absl::OkStatus();
}

}  // namespace kv
