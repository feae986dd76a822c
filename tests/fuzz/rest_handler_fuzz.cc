// Fuzzes the REST API v4 front end (common/http/rest_handler): any request
// (method, path, query, headers, body, as text: tests/fuzz/http_request_-
// text.h) against an in-memory KvApi, with and without the cache path.
// Every response must be a real status and, as Cloudflare's API always
// answers, a JSON envelope that parses, whose "success" says whether the
// status is below 400, and whose errors (when it failed) each carry a
// message.
#include <cstddef>
#include <cstdint>

#include "common/http/rest_handler.h"
#include "tests/fuzz/front_end_fuzz.h"

namespace kv::http {
namespace {

void CheckRestResponse(const HttpResponse& response) {
  CheckCommon(response);
  const std::string* type = ResponseHeader(response, "content-type");
  const bool json = type != nullptr && absl::StartsWith(*type, "application/json");
  // Values are returned raw; everything else, errors first, is an envelope.
  if (response.status >= 400) KV_FUZZ_CHECK(json);
  if (!json) return;
  const nlohmann::json body = nlohmann::json::parse(response.body);
  KV_FUZZ_CHECK(body.is_object());
  if (!body.contains("success")) return;  // a metadata read: the user's JSON
  KV_FUZZ_CHECK(body["success"].is_boolean());
  KV_FUZZ_CHECK(body["success"].get<bool>() == (response.status < 400));
  if (response.status >= 400) {
    KV_FUZZ_CHECK(body["errors"].is_array() && !body["errors"].empty());
    for (const nlohmann::json& error : body["errors"]) {
      KV_FUZZ_CHECK(error["message"].is_string() && !error["message"].get<std::string>().empty());
      KV_FUZZ_CHECK(error["code"].is_number_integer());
    }
  }
}

}  // namespace
}  // namespace kv::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  kv::http::FuzzFrontEnd<kv::http::RestHandler>(
      data, size, [](const kv::http::HttpRequest&, const kv::http::HttpResponse& response) {
        kv::http::CheckRestResponse(response);
      });
  return 0;
}
