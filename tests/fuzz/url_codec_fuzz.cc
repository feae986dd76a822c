// Fuzzes the URL decoding of the HTTP front ends (common/http/url_codec):
// path segments and query strings arrive as the client sent them. Nothing
// may crash; a decoded segment is never longer than its input, and a
// segment without '%' decodes to itself; every parameter of a query that
// parses can be found by name.
#include <cstddef>
#include <cstdint>

#include "common/http/url_codec.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view s(reinterpret_cast<const char*>(data), size);
  const std::optional<std::string> segment = kv::http::PercentDecode(s);
  if (segment.has_value()) {
    KV_FUZZ_CHECK(segment->size() <= s.size());
    if (s.find('%') == absl::string_view::npos) KV_FUZZ_CHECK(*segment == s);
  } else {
    KV_FUZZ_CHECK(s.find('%') != absl::string_view::npos);
  }
  const absl::StatusOr<kv::http::QueryParams> params = kv::http::ParseQuery(s);
  if (params.ok()) {
    for (const auto& [name, value] : *params) {
      KV_FUZZ_CHECK(kv::http::FindParam(*params, name) != nullptr);
      (void)kv::http::IntParam(*params, name);
    }
  } else {
    kv::CheckRefusalSaysWhy(params.status());
  }
  return 0;
}
