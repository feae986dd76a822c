// Fuzzes the multipart/form-data parser (common/http/multipart) that reads
// REST value writes with metadata: the input's first line is the
// Content-Type header's value, the rest the body. Nothing may crash; every
// part parsed is a slice of the body, so the parts' data never adds up to
// more than the body; a refusal says why.
#include <cstddef>
#include <cstdint>

#include "common/http/multipart.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const absl::string_view content_type = input.substr(0, newline);
  const absl::string_view body =
      newline == absl::string_view::npos ? absl::string_view() : input.substr(newline + 1);
  (void)kv::http::IsMultipartFormData(content_type);
  const absl::StatusOr<std::vector<kv::http::FormPart>> parts =
      kv::http::ParseMultipartFormData(content_type, body);
  if (!parts.ok()) {
    kv::CheckRefusalSaysWhy(parts.status());
    return 0;
  }
  size_t total = 0;
  for (const kv::http::FormPart& part : *parts) total += part.data.size();
  KV_FUZZ_CHECK(total <= body.size());
  return 0;
}
