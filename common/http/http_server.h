#ifndef KV_COMMON_HTTP_HTTP_SERVER_H_
#define KV_COMMON_HTTP_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/http/http_message.h"
#include "common/tls.h"

namespace kv::http {

// What an HttpServer serves. Implementations are thread-safe: every method
// may run on several threads at once.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;

  // The most body bytes accepted for a request with this method, path and
  // query and these headers (body still empty). A larger body (declared or
  // streamed, chunked included) is refused with 413 while it is read.
  virtual uint64_t BodyLimit(const HttpRequest& head) const = 0;

  // Runs on an I/O thread and must not block: answers into `response` and
  // returns true, or returns false (response untouched) to have Handle()
  // run on a worker. Default: false.
  virtual bool TryHandleInline(const HttpRequest& request, HttpResponse* response) {
    return false;
  }

  // Runs on a worker thread; may block (storage, a central).
  virtual void Handle(const HttpRequest& request, HttpResponse* response) = 0;

  // The message of the 413 for a body over BodyLimit(head): `declared` is
  // its Content-Length when it had one (nullopt: chunked). Default: "Request
  // body of N bytes exceeds the limit of M bytes".
  virtual std::string BodyTooLargeMessage(const HttpRequest& head,
                                          std::optional<uint64_t> declared,
                                          uint64_t limit) const;

  // The response to an error the server finds itself before any handler
  // runs: malformed request (400), header too large (431), body too large
  // (413), request timed out (408).
  virtual void RenderError(int status, absl::string_view message,
                           HttpResponse* response) const = 0;
};

struct HttpServerOptions {
  // host:port to listen on; port 0 picks a free port. Required.
  std::string addr;
  // Threads reading and writing connections (and running
  // TryHandleInline). Default: 2.
  int io_threads = 2;
  // Threads running Handle(). Default: 16.
  int worker_threads = 16;
  // Bytes of a request's line and headers. Default: 16 KiB.
  uint32_t max_header_bytes = 16 << 10;
  // How long a connection may wait for (the whole head of) its next
  // request. Default: 60 s.
  absl::Duration idle_timeout = absl::Seconds(60);
  // How long reading a request's body, and writing a response, may take.
  // Default: 30 s.
  absl::Duration request_timeout = absl::Seconds(30);
  // Open connections; more are closed at once. Default: 10,000.
  int max_connections = 10000;
  // PEM certificate chain and private key (their contents, as LoadNodeTls
  // read and checked them): every connection is HTTPS (TLS 1.2+). Both
  // empty: plain HTTP. Default: plain.
  std::string tls_cert_pem;
  std::string tls_key_pem;
};

// `options` serving HTTPS with a node's TLS material (common/tls.h) when it
// has some (the node's certificate and key; clients need no certificate).
HttpServerOptions WithTls(HttpServerOptions options, const TlsMaterial& tls);

// An HTTP/1.1 server (Boost.Beast on Boost.Asio, docs/http.md), plain or
// HTTPS (options.tls_cert_pem/tls_key_pem; a failed handshake closes the
// connection without an answer): keep-alive,
// chunked bodies, "Expect: 100-continue", bounded head and body, timeouts
// for slow or half-open clients. Requests of one connection are handled
// one at a time, in order. The handler must outlive the server.
// Start() returns once it listens; Shutdown() (idempotent, also run by the
// destructor) stops accepting, waits for the handlers running on workers,
// closes every connection and joins its threads.
class HttpServer {
 public:
  // INVALID_ARGUMENT for a malformed address; UNAVAILABLE when it cannot
  // listen.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           HttpHandler& handler);
  virtual ~HttpServer() = default;
  virtual int port() const = 0;
  virtual void Shutdown() = 0;
};

// The standard reason phrase of `status` ("Not Found"); "Unknown" if none.
absl::string_view StandardReason(int status);

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_HTTP_SERVER_H_
