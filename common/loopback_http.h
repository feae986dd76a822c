#ifndef KV_COMMON_LOOPBACK_HTTP_H_
#define KV_COMMON_LOOPBACK_HTTP_H_

// A one-shot HTTP/1.1 request to 127.0.0.1 over a plain socket, for small
// control APIs (kv-faultproxy) and /metrics scrapes, in tests and kv-bench:
// no keep-alive; chunked responses are decoded, Content-Length honoured.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kv {

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

// GET `path`: the body of a 200 answer; INTERNAL (with the status and the
// start of the body) for another status; otherwise as HttpRequest.
absl::StatusOr<std::string> HttpGet(int port, absl::string_view path,
                                    absl::Duration timeout = absl::Seconds(5));

}  // namespace kv

#endif  // KV_COMMON_LOOPBACK_HTTP_H_
