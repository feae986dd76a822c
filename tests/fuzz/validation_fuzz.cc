// Fuzzes the limit checks (common/validation) with any bytes as a key, a
// prefix, a namespace title or id, an account id and metadata JSON. They
// must never crash, and what they accept must satisfy what they promise:
// valid UTF-8 within the byte limits, metadata that parses as JSON, ids of
// the documented alphabet; a refusal must say why. The UTF-8 check must
// agree with a second opinion (nlohmann::json's encoder, which refuses
// exactly the invalid UTF-8: overlong forms, surrogates, beyond U+10FFFF).
#include <cstddef>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "common/limits.h"
#include "common/validation.h"
#include "nlohmann/json.hpp"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view s(reinterpret_cast<const char*>(data), size);
  bool json_says_utf8 = true;
  try {
    (void)nlohmann::json(std::string(s)).dump();
  } catch (const nlohmann::json::type_error&) {
    json_says_utf8 = false;
  }
  KV_FUZZ_CHECK(kv::IsValidUtf8(s) == json_says_utf8);
  kv::Limits limits;
  // Small limits too, so that the boundaries are within a fuzzer's reach.
  kv::Limits small;
  small.max_key_bytes = 8;
  small.max_metadata_bytes = 16;
  small.max_title_bytes = 8;
  for (const kv::Limits& l : {limits, small}) {
    const absl::Status key = kv::ValidateKey(s, l);
    kv::CheckRefusalSaysWhy(key);
    if (key.ok()) {
      KV_FUZZ_CHECK(!s.empty() && s.size() <= l.max_key_bytes);
      KV_FUZZ_CHECK(kv::IsValidUtf8(s));
      KV_FUZZ_CHECK(s != "." && s != "..");
    }
    const absl::Status prefix = kv::ValidatePrefix(s, l);
    kv::CheckRefusalSaysWhy(prefix);
    if (prefix.ok()) KV_FUZZ_CHECK(s.size() <= l.max_key_bytes && kv::IsValidUtf8(s));

    const absl::Status metadata = kv::ValidateMetadata(s, l);
    kv::CheckRefusalSaysWhy(metadata);
    if (metadata.ok()) {
      KV_FUZZ_CHECK(s.size() <= l.max_metadata_bytes);
      KV_FUZZ_CHECK(nlohmann::json::accept(s));
    }
    const absl::Status title = kv::ValidateNamespaceTitle(s, l);
    kv::CheckRefusalSaysWhy(title);
    if (title.ok()) KV_FUZZ_CHECK(!s.empty() && s.size() <= l.max_title_bytes && kv::IsValidUtf8(s));
  }
  const absl::Status ns = kv::ValidateNamespaceId(s);
  kv::CheckRefusalSaysWhy(ns);
  if (ns.ok()) {
    KV_FUZZ_CHECK(s.size() == 32);
    for (char c : s) KV_FUZZ_CHECK(absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
  }
  const absl::Status account = kv::ValidateAccountId(s);
  kv::CheckRefusalSaysWhy(account);
  if (account.ok()) {
    KV_FUZZ_CHECK(!s.empty() && s.size() <= 64);
    for (char c : s) KV_FUZZ_CHECK(absl::ascii_isalnum(c) || c == '-' || c == '_');
  }
  return 0;
}
