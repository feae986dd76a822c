#ifndef KV_TESTS_HARNESS_RAW_HTTP_CLIENT_H_
#define KV_TESTS_HARNESS_RAW_HTTP_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kv::testing {

// One HTTP/1.1 response as received.
struct HttpReply {
  int status = 0;
  std::string reason;
  // Names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first value of `lower_name`, or "".
  std::string Header(absl::string_view lower_name) const;
};

// A minimal blocking HTTP/1.1 client over 127.0.0.1 for the HTTP front
// ends' tests (headers, reason phrases, raw and half-open requests; see
// common/loopback_http.h for the simpler one of control APIs): one request
// per connection ("Connection: close"), the response read to its
// Content-Length or to EOF. DEADLINE_EXCEEDED when no complete response
// arrives within `timeout`; UNAVAILABLE when the connection fails or the
// server closes it without a response.
absl::StatusOr<HttpReply> HttpCall(int port, absl::string_view method, absl::string_view target,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   absl::string_view body,
                                   absl::Duration timeout = absl::Seconds(30));

// Sends `raw` bytes as they are, shuts down the sending side (so a cut
// request ends at once) and reads one response (for malformed requests).
// Same errors as HttpCall.
absl::StatusOr<HttpReply> HttpRaw(int port, absl::string_view raw,
                                  absl::Duration timeout = absl::Seconds(30));

// An open connection to 127.0.0.1:port (for slow and half-open clients).
// The destructor closes it.
class RawConnection {
 public:
  static absl::StatusOr<RawConnection> Open(int port);
  RawConnection(RawConnection&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  ~RawConnection();
  absl::Status Send(absl::string_view bytes);
  // Waits until the server closes the connection (EOF or reset) and returns
  // what it sent before; DEADLINE_EXCEEDED if it is still open at `timeout`.
  absl::StatusOr<std::string> ReadUntilClosed(absl::Duration timeout);

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_RAW_HTTP_CLIENT_H_
