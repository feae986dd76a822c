// Probe server for the HTTP library choice (run.sh); not part of the build.
#include <utility>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <memory>
#include <thread>
#include <vector>
namespace beast = boost::beast; namespace http = beast::http; namespace net = boost::asio;
using tcp = net::ip::tcp;
struct Session : std::enable_shared_from_this<Session> {
  beast::tcp_stream s; beast::flat_buffer buf; http::request<http::string_body> req; http::response<http::string_body> res;
  explicit Session(tcp::socket&& sock) : s(std::move(sock)) {}
  void Read() { req = {}; http::async_read(s, buf, req, [self = shared_from_this()](beast::error_code ec, size_t) { if (ec) return; self->Handle(); }); }
  void Handle() { res = {}; res.result(http::status::ok); res.version(11); res.set(http::field::content_type, "application/octet-stream"); res.body() = "hello-value"; res.keep_alive(req.keep_alive()); res.prepare_payload();
    http::async_write(s, res, [self = shared_from_this()](beast::error_code ec, size_t) { if (ec) return; self->Read(); }); }
};
void Accept(tcp::acceptor& a) { a.async_accept([&a](beast::error_code ec, tcp::socket sock) { if (!ec) std::make_shared<Session>(std::move(sock))->Read(); Accept(a); }); }
int main(int argc, char** argv) { int threads = atoi(argv[2]); net::io_context ioc(threads); tcp::acceptor a(ioc, {net::ip::make_address("127.0.0.1"), (unsigned short)atoi(argv[1])}); Accept(a);
  std::vector<std::thread> t; for (int i = 1; i < threads; ++i) t.emplace_back([&] { ioc.run(); }); ioc.run(); }
