// The only translation unit that includes Boost.Beast/Asio (they are heavy
// to compile). Invariants:
//  - a Session's members are touched only on its strand, except while a
//    worker runs Handle(): then the session waits (no read or write is
//    pending) and the worker owns request_ and response_ until it posts
//    back to the strand;
//  - every read and write has a deadline (tcp_stream::expires_after);
//  - a connection is closed after any error or refused request whose body
//    may still be on the wire.
#include "common/http/http_server.h"

#include <atomic>
#include <limits>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kv::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::chrono::steady_clock::duration ToSteady(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(absl::ToChronoNanoseconds(d));
}

// ASCII printable, no CR/LF, at most 512 characters.
std::string SafeReason(absl::string_view reason) {
  std::string out;
  out.reserve(std::min<size_t>(reason.size(), 512));
  for (char c : reason) {
    if (out.size() == 512) break;
    const unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : ' ');
  }
  return out;
}

class ServerImpl;

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection, over plain TCP (PlainStream) or TLS (TlsStream).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  // `args`: the socket, and for TLS the server's SSL context.
  template <class... Args>
  explicit Session(ServerImpl& server, Args&&... args);
  ~Session();
  // TLS: the handshake (within the request timeout) first.
  void Start();

 private:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  auto& socket_layer() { return beast::get_lowest_layer(stream_); }

  void ReadHead();
  void OnHead(beast::error_code ec);
  void ReadBody();
  void OnBody(beast::error_code ec);
  void Dispatch();
  void Write();
  void OnWrite(beast::error_code ec, bool close);
  // An error response, then close.
  void Fail(int status, absl::string_view message);
  void Close();

  Stream stream_;
  ServerImpl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  HttpRequest request_;
  HttpResponse response_;
  bool keep_alive_ = true;
  // A HEAD request: handled as the GET it stands for, answered with that
  // response's status and headers (Content-Length included), no body.
  bool head_only_ = false;
  bhttp::response<bhttp::string_body> wire_;
  bhttp::response<bhttp::empty_body> continue_;
};

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const HttpServerOptions& options, HttpHandler& handler)
      : connections_(0),
        options_(options),
        handler_(handler),
        io_(options.io_threads),
        acceptor_(io_),
        workers_(static_cast<size_t>(std::max(1, options.worker_threads))) {}
  ~ServerImpl() override { Shutdown(); }

  absl::Status Listen() {
    if (!options_.tls_cert_pem.empty() || !options_.tls_key_pem.empty()) {
      if (absl::Status s = LoadTls(); !s.ok()) return s;
    }
    const size_t colon = options_.addr.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(absl::string_view(options_.addr).substr(colon + 1), &port) ||
        port < 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP address \"", options_.addr, "\" is not host:port"));
    }
    std::string host = options_.addr.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (host == "localhost") host = "127.0.0.1";
    beast::error_code ec;
    const asio::ip::address address = asio::ip::make_address(host, ec);
    if (ec) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTP address \"", options_.addr, "\": ", ec.message()));
    }
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on ", options_.addr, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  void Shutdown() override {
    if (shut_down_.exchange(true)) return;
    asio::post(io_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    workers_.join();  // handlers in flight finish; their writes are posted
    io_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

  const HttpServerOptions& options() const { return options_; }
  HttpHandler& handler() { return handler_; }
  asio::thread_pool& workers() { return workers_; }
  std::atomic<int>& connections() { return connections_; }

 private:
  // HTTPS with the PEM certificate chain and key of the options: TLS 1.2
  // and later.
  absl::Status LoadTls() {
    if (options_.tls_cert_pem.empty() || options_.tls_key_pem.empty()) {
      return absl::InvalidArgumentError("HTTPS needs both a certificate and its key");
    }
    tls_.emplace(asio::ssl::context::tls_server);
    beast::error_code ec;
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1,
                      ec);
    if (!ec) {
      tls_->use_certificate_chain(
          asio::buffer(options_.tls_cert_pem.data(), options_.tls_cert_pem.size()), ec);
    }
    if (ec) return absl::InvalidArgumentError(absl::StrCat("HTTPS certificate: ", ec.message()));
    tls_->use_private_key(asio::buffer(options_.tls_key_pem.data(), options_.tls_key_pem.size()),
                          asio::ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("HTTPS key: ", ec.message()));
    return absl::OkStatus();
  }

  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec,
                                                          tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        if (connections_.load(std::memory_order_relaxed) >= options_.max_connections) {
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          socket.set_option(tcp::no_delay(true), ec);
          if (tls_) {
            std::make_shared<Session<TlsStream>>(*this, std::move(socket), *tls_)->Start();
          } else {
            std::make_shared<Session<PlainStream>>(*this, std::move(socket))->Start();
          }
        }
      }
      Accept();
    });
  }

  // First: sessions still queued in io_ when it is destroyed (after
  // Shutdown) count themselves out here.
  std::atomic<int> connections_;
  const HttpServerOptions options_;
  HttpHandler& handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::thread_pool workers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> shut_down_{false};
  int port_ = 0;
  // Set: every connection is HTTPS.
  std::optional<asio::ssl::context> tls_;
};

template <class Stream>
template <class... Args>
Session<Stream>::Session(ServerImpl& server, Args&&... args)
    : stream_(std::forward<Args>(args)...), server_(server) {
  server_.connections().fetch_add(1, std::memory_order_relaxed);
}

template <class Stream>
Session<Stream>::~Session() {
  server_.connections().fetch_sub(1, std::memory_order_relaxed);
}

template <class Stream>
void Session<Stream>::Start() {
  if constexpr (kTls) {
    socket_layer().expires_after(ToSteady(server_.options().request_timeout));
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              // A failed handshake has no HTTP to answer in.
                              if (ec) return self->socket_layer().close();
                              self->ReadHead();
                            });
  } else {
    ReadHead();
  }
}

template <class Stream>
void Session<Stream>::ReadHead() {
  parser_.emplace();
  parser_->header_limit(server_.options().max_header_bytes);
  // Beast checks a declared Content-Length against the body limit while
  // reading the head (default 8 MB): lift it here, OnHead applies the
  // handler's limit for this request.
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  socket_layer().expires_after(ToSteady(server_.options().idle_timeout));
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = this->shared_from_this()](beast::error_code ec, size_t) {
                             self->OnHead(ec);
                           });
}

template <class Stream>
void Session<Stream>::OnHead(beast::error_code ec) {
  head_only_ = false;
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
      ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
      ec == asio::error::eof) {
    return Close();
  }
  if (ec == bhttp::error::header_limit) {
    return Fail(431, absl::StrCat("Request header fields exceed the limit of ",
                                  server_.options().max_header_bytes, " bytes"));
  }
  if (ec) return Fail(400, absl::StrCat("Malformed HTTP request: ", ec.message()));

  const auto& head = parser_->get();
  request_ = HttpRequest();
  request_.method = std::string(head.method_string());
  head_only_ = request_.method == "HEAD";
  if (head_only_) request_.method = "GET";
  absl::string_view target(head.target().data(), head.target().size());
  const size_t q = target.find('?');
  request_.path = std::string(target.substr(0, q));
  request_.query = q == absl::string_view::npos ? "" : std::string(target.substr(q + 1));
  for (const auto& field : head) {
    request_.headers.emplace_back(
        absl::AsciiStrToLower(absl::string_view(field.name_string().data(),
                                                field.name_string().size())),
        std::string(field.value()));
  }
  keep_alive_ = head.keep_alive();
  const uint64_t limit = server_.handler().BodyLimit(request_);
  if (parser_->content_length() && *parser_->content_length() > limit) {
    return Fail(413, server_.handler().BodyTooLargeMessage(
                         request_, *parser_->content_length(), limit));
  }
  parser_->body_limit(limit);
  if (parser_->is_done()) return OnBody({});
  const std::string* expect = request_.Header("expect");
  if (expect != nullptr && absl::EqualsIgnoreCase(*expect, "100-continue")) {
    continue_ = bhttp::response<bhttp::empty_body>(bhttp::status::continue_, head.version());
    socket_layer().expires_after(ToSteady(server_.options().request_timeout));
    bhttp::async_write(stream_, continue_,
                       [self = this->shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) return self->Close();
                         self->ReadBody();
                       });
    return;
  }
  ReadBody();
}

template <class Stream>
void Session<Stream>::ReadBody() {
  socket_layer().expires_after(ToSteady(server_.options().request_timeout));
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = this->shared_from_this()](beast::error_code ec, size_t) {
                      self->OnBody(ec);
                    });
}

template <class Stream>
void Session<Stream>::OnBody(beast::error_code ec) {
  if (ec == bhttp::error::body_limit) {
    return Fail(413, server_.handler().BodyTooLargeMessage(
                         request_, std::nullopt, server_.handler().BodyLimit(request_)));
  }
  if (ec == beast::error::timeout || ec == asio::error::operation_aborted) return Close();
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == asio::error::eof || ec == asio::error::connection_reset) {
    return Close();  // truncated body: nothing to answer, nothing applied
  }
  if (ec) return Fail(400, absl::StrCat("Malformed HTTP request body: ", ec.message()));
  request_.body = std::move(parser_->get().body());
  parser_.reset();
  Dispatch();
}

template <class Stream>
void Session<Stream>::Dispatch() {
  response_ = HttpResponse();
  if (server_.handler().TryHandleInline(request_, &response_)) return Write();
  asio::post(server_.workers(), [self = this->shared_from_this()] {
    self->server_.handler().Handle(self->request_, &self->response_);
    asio::post(self->stream_.get_executor(), [self] { self->Write(); });
  });
}

template <class Stream>
void Session<Stream>::Write() {
  wire_ = bhttp::response<bhttp::string_body>();
  wire_.version(11);
  wire_.result(static_cast<unsigned>(response_.status));
  if (!response_.reason.empty()) wire_.reason(SafeReason(response_.reason));
  for (auto& [name, value] : response_.headers) wire_.insert(name, value);
  wire_.body() = std::move(response_.body);
  wire_.keep_alive(keep_alive_);
  wire_.prepare_payload();
  if (head_only_) wire_.body().clear();  // Content-Length stays the GET's
  const bool close = !keep_alive_;
  socket_layer().expires_after(ToSteady(server_.options().request_timeout));
  bhttp::async_write(stream_, wire_,
                     [self = this->shared_from_this(), close](beast::error_code ec, size_t) {
                       self->OnWrite(ec, close);
                     });
}

template <class Stream>
void Session<Stream>::OnWrite(beast::error_code ec, bool close) {
  if (ec || close) return Close();
  request_ = HttpRequest();
  ReadHead();
}

template <class Stream>
void Session<Stream>::Fail(int status, absl::string_view message) {
  parser_.reset();
  keep_alive_ = false;
  response_ = HttpResponse();
  server_.handler().RenderError(status, message, &response_);
  Write();
}

template <class Stream>
void Session<Stream>::Close() {
  if constexpr (kTls) {
    // close_notify first (within a deadline), then the socket.
    socket_layer().expires_after(std::chrono::seconds(1));
    stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
      beast::error_code ignored;
      self->socket_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->socket_layer().close();
    });
  } else {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }
}

}  // namespace

HttpServerOptions WithTls(HttpServerOptions options, const TlsMaterial& tls) {
  options.tls_cert_pem = tls.cert;
  options.tls_key_pem = tls.key;
  return options;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              HttpHandler& handler) {
  auto server = std::make_unique<ServerImpl>(options, handler);
  if (absl::Status s = server->Listen(); !s.ok()) return s;
  return std::unique_ptr<HttpServer>(std::move(server));
}

std::string HttpHandler::BodyTooLargeMessage(const HttpRequest& head,
                                             std::optional<uint64_t> declared,
                                             uint64_t limit) const {
  if (declared) {
    return absl::StrCat("Request body of ", *declared, " bytes exceeds the limit of ", limit,
                        " bytes");
  }
  return absl::StrCat("Request body exceeds the limit of ", limit, " bytes");
}

absl::string_view StandardReason(int status) {
  const beast::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  return absl::string_view(reason.data(), reason.size());
}

}  // namespace kv::http
