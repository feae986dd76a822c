// Fuzzes what kvctl reads from files the user hands it
// (tools/kvctl/bulk_file.h, config.h): the first byte picks the parser
// (bulk put file, key list file, config file, base64), the rest is the
// file. Nothing may crash, a refusal says why, and base64 round-trips:
// decode(encode(x)) == x for any bytes, and whatever decodes encodes back
// to something that decodes to the same bytes.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_check.h"
#include "tools/kvctl/bulk_file.h"
#include "tools/kvctl/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      const auto entries = kv::kvctl::ParseBulkPutFile(text);
      kv::CheckRefusalSaysWhy(entries.status());
      break;
    }
    case 1: {
      const auto keys = kv::kvctl::ParseKeyListFile(text);
      kv::CheckRefusalSaysWhy(keys.status());
      break;
    }
    case 2: {
      const auto config = kv::kvctl::ParseConfig(text);
      kv::CheckRefusalSaysWhy(config.status());
      break;
    }
    default: {
      const absl::StatusOr<std::string> round = kv::kvctl::Base64Decode(kv::kvctl::Base64Encode(text));
      KV_FUZZ_CHECK(round.ok() && *round == text);
      const absl::StatusOr<std::string> decoded = kv::kvctl::Base64Decode(text);
      kv::CheckRefusalSaysWhy(decoded.status());
      if (decoded.ok()) {
        const absl::StatusOr<std::string> again =
            kv::kvctl::Base64Decode(kv::kvctl::Base64Encode(*decoded));
        KV_FUZZ_CHECK(again.ok() && *again == *decoded);
      }
      break;
    }
  }
  return 0;
}
