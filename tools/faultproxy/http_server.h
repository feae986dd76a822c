#ifndef KV_TOOLS_FAULTPROXY_HTTP_SERVER_H_
#define KV_TOOLS_FAULTPROXY_HTTP_SERVER_H_

// A minimal HTTP/1.1 server for kv-faultproxy's control API: one request per
// connection (answered with "Connection: close"), requests handled one at a
// time on one thread, bodies up to kMaxBodyBytes, no chunked requests.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/faultproxy/net_util.h"

namespace kv::faultproxy {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

inline constexpr size_t kMaxHeadBytes = 16 << 10;
inline constexpr size_t kMaxBodyBytes = 64 << 10;

// Parses a request head (the bytes before the blank line, without it):
// the request line and the headers. Sets the method, the path (query string
// removed) and `content_length` (0 without the header). INVALID_ARGUMENT,
// saying what is wrong, for a malformed request line, a non-HTTP/1.x
// version, a bad or too large Content-Length, or Transfer-Encoding.
absl::StatusOr<HttpRequest> ParseRequestHead(absl::string_view head, size_t& content_length);

// The status line's reason phrase for the codes the control API uses.
absl::string_view ReasonPhrase(int status);

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Listens on `address` (port 0: any) and serves on a thread. UNAVAILABLE
  // when it cannot listen.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HostPort& address,
                                                           Handler handler);
  // Stops and joins the thread.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }

 private:
  HttpServer(UniqueFd listener, int port, Handler handler);
  void Serve();
  // Reads one request from `fd` and writes the answer; gives up after 5 s.
  void HandleConnection(int fd);

  UniqueFd listener_;
  const int port_;
  const Handler handler_;
  WakeFd wake_;
  std::thread thread_;
};

}  // namespace kv::faultproxy

#endif  // KV_TOOLS_FAULTPROXY_HTTP_SERVER_H_
