#ifndef KV_TESTS_FUZZ_FRONT_END_FUZZ_H_
#define KV_TESTS_FUZZ_FRONT_END_FUZZ_H_

// Runs one fuzzed request through an HTTP front end (REST API v4 or
// workerd's protocol) against an in-memory KvApi, the way HttpServer would
// (body limit, then the inline path, then Handle), and checks what every
// response must satisfy whatever the request.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "common/http/http_server.h"
#include "common/limits.h"
#include "nlohmann/json.hpp"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/http_request_text.h"
#include "tests/unit/http/fake_kv_api.h"

namespace kv::http {

// The fake's starting contents: a plain key, one with metadata and an
// expiration, one with a slash (lists, prefixes, cursors have something to
// page over).
inline void SeedRecords(FakeKvApi& api) {
  api.records["a"] = {"1", std::nullopt, 0};
  api.records["b/c"] = {"two", R"({"k":"v"})", 4102444800};
  api.records["b/d"] = {std::string("\0\xff", 2), std::nullopt, 0};
}

inline const std::string* ResponseHeader(const HttpResponse& response, absl::string_view name) {
  for (const auto& [n, v] : response.headers) {
    if (absl::EqualsIgnoreCase(n, name)) return &v;
  }
  return nullptr;
}

// As HttpServer: a body over the handler's limit is refused with 413
// before the handler sees it; otherwise the inline path, then Handle.
inline HttpResponse Serve(HttpHandler& handler, const HttpRequest& request) {
  HttpResponse response;
  HttpRequest head = request;
  head.body.clear();
  const uint64_t limit = handler.BodyLimit(head);
  if (request.body.size() > limit) {
    handler.RenderError(413, handler.BodyTooLargeMessage(head, request.body.size(), limit),
                        &response);
    return response;
  }
  if (!handler.TryHandleInline(request, &response)) handler.Handle(request, &response);
  return response;
}

// What any response must be: a real status; a JSON body (when it says it
// is JSON) that parses, strings in valid UTF-8 included.
inline void CheckCommon(const HttpResponse& response) {
  KV_FUZZ_CHECK(response.status >= 200 && response.status <= 599);
  const std::string* type = ResponseHeader(response, "content-type");
  if (type != nullptr && absl::StartsWith(*type, "application/json")) {
    KV_FUZZ_CHECK(nlohmann::json::accept(response.body));
  }
}

// The body of a front end's fuzz target: serves the request the input
// spells (RequestFromText) with a fresh fake API (SeedRecords), once
// without and once with the cache path, and hands each response to
// `check(request, response)`.
template <typename Handler, typename Check>
void FuzzFrontEnd(const uint8_t* data, size_t size, Check check) {
  const HttpRequest request =
      RequestFromText(absl::string_view(reinterpret_cast<const char*>(data), size));
  for (bool cache : {false, true}) {
    FakeKvApi api;
    api.cache = cache;
    SeedRecords(api);
    Handler handler(api, kv::Limits{});
    check(request, Serve(handler, request));
  }
}

}  // namespace kv::http

#endif  // KV_TESTS_FUZZ_FRONT_END_FUZZ_H_
