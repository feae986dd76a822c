// Fuzzes workerd's KV protocol front end (common/http/workerd_handler): any
// request (as text: tests/fuzz/http_request_text.h) against an in-memory
// KvApi, with and without the cache path. Every response must be a real
// status; an error must say what went wrong in its body (a key that is not
// there is the one error without a body: the protocol's 404, which the
// binding turns into null), and its reason phrase (which workerd shows to
// the Worker) must be at most 512 bytes; a JSON body must parse.
#include <cstddef>
#include <cstdint>

#include "common/http/workerd_handler.h"
#include "tests/fuzz/front_end_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kv::http::HttpRequest;
  using kv::http::HttpResponse;
  kv::http::FuzzFrontEnd<kv::http::WorkerdHandler>(
      data, size, [](const HttpRequest& request, const HttpResponse& response) {
        kv::http::CheckCommon(response);
        if (response.status >= 400) {
          const bool key_not_found = response.status == 404 && request.method == "GET";
          KV_FUZZ_CHECK(key_not_found || !response.body.empty());
          KV_FUZZ_CHECK(response.reason.size() <= 512);
        }
      });
  return 0;
}
