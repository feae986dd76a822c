#ifndef KV_TESTS_HARNESS_HTTP_CLIENT_H_
#define KV_TESTS_HARNESS_HTTP_CLIENT_H_

// A one-shot HTTP/1.1 request to 127.0.0.1 over a plain socket, for small
// control APIs (kv-faultproxy) and /metrics: no keep-alive; chunked
// responses are decoded, Content-Length honoured.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kv::testing {

struct HttpResult {
  int status = 0;  // e.g. 200
  std::string body;
};

// Sends `method path` with `body` (as application/json when not empty) to
// 127.0.0.1:`port` and reads the response until the server closes, all
// within `timeout`. Any HTTP status is a result; UNAVAILABLE when the
// connection fails, DEADLINE_EXCEEDED when time runs out, INTERNAL for an
// unparseable response or a content-encoding other than identity.
absl::StatusOr<HttpResult> HttpRequest(int port, absl::string_view method, absl::string_view path,
                                       absl::string_view body, absl::Duration timeout);

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_HTTP_CLIENT_H_
