#include "tools/faultproxy/http_server.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "nlohmann/json.hpp"

namespace kv::faultproxy {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kRequestTimeout = std::chrono::seconds(5);

// Waits for `events` on `fd` until `deadline`; false on timeout or error.
bool WaitFor(int fd, short events, SteadyTime deadline) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

HttpResponse ErrorResponse(int status, absl::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = nlohmann::json{{"error", std::string(message)}}.dump(
                -1, ' ', false, nlohmann::json::error_handler_t::replace) +
            "\n";
  return r;
}

}  // namespace

absl::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

absl::StatusOr<HttpRequest> ParseRequestHead(absl::string_view head, size_t& content_length) {
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  std::vector<absl::string_view> request_line = absl::StrSplit(lines[0], ' ');
  if (request_line.size() != 3 || request_line[0].empty() || request_line[1].empty() ||
      request_line[1][0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed request line \"", absl::CEscape(lines[0].substr(0, 200)), "\""));
  }
  if (!absl::StartsWith(request_line[2], "HTTP/1.")) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported version \"", absl::CEscape(request_line[2]), "\""));
  }
  HttpRequest request;
  request.method = std::string(request_line[0]);
  request.path = std::string(request_line[1].substr(0, request_line[1].find('?')));
  content_length = 0;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed header \"", absl::CEscape(lines[i].substr(0, 200)), "\""));
    }
    const std::string name = absl::AsciiStrToLower(lines[i].substr(0, colon));
    const absl::string_view value = absl::StripAsciiWhitespace(lines[i].substr(colon + 1));
    if (name == "content-length") {
      if (!absl::SimpleAtoi(value, &content_length)) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad Content-Length \"", absl::CEscape(value), "\""));
      }
      if (content_length > kMaxBodyBytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "body is ", content_length, " bytes; the limit is ", kMaxBodyBytes));
      }
    } else if (name == "transfer-encoding") {
      return absl::InvalidArgumentError("Transfer-Encoding is not supported; send Content-Length");
    }
  }
  return request;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HostPort& address,
                                                              Handler handler) {
  int port = 0;
  absl::StatusOr<UniqueFd> listener = OpenListener(address, &port);
  if (!listener.ok()) return listener.status();
  std::unique_ptr<HttpServer> server(
      new HttpServer(std::move(*listener), port, std::move(handler)));
  if (server->wake_.fd() < 0) return absl::UnavailableError("eventfd failed");
  server->thread_ = std::thread([s = server.get()] { s->Serve(); });
  return server;
}

HttpServer::HttpServer(UniqueFd listener, int port, Handler handler)
    : listener_(std::move(listener)), port_(port), handler_(std::move(handler)) {}

HttpServer::~HttpServer() {
  wake_.Signal();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::Serve() {
  while (true) {
    pollfd fds[2] = {{wake_.fd(), POLLIN, 0}, {listener_.get(), POLLIN, 0}};
    const int r = poll(fds, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      LOG(ERROR) << "control server: poll: " << strerror(errno);
      return;
    }
    if ((fds[0].revents & POLLIN) != 0) return;
    UniqueFd fd(accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) continue;
    HandleConnection(fd.get());
  }
}

void HttpServer::HandleConnection(int fd) {
  const SteadyTime deadline = Clock::now() + kRequestTimeout;
  std::string data;
  char buf[4096];
  size_t head_end = std::string::npos;
  size_t content_length = 0;
  absl::StatusOr<HttpRequest> request = absl::UnknownError("no request");
  HttpResponse response;
  bool have_response = false;
  while (true) {
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        request = ParseRequestHead(absl::string_view(data).substr(0, head_end), content_length);
        if (!request.ok()) {
          response = ErrorResponse(400, request.status().message());
          have_response = true;
          break;
        }
      } else if (data.size() > kMaxHeadBytes) {
        response = ErrorResponse(400, absl::StrCat("request head over ", kMaxHeadBytes, " bytes"));
        have_response = true;
        break;
      }
    }
    if (head_end != std::string::npos && data.size() >= head_end + 4 + content_length) break;
    if (!WaitFor(fd, POLLIN, deadline)) return;  // a stuck client: drop it
    const ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0) return;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return;
    }
    data.append(buf, static_cast<size_t>(n));
  }
  if (!have_response) {
    request->body = data.substr(head_end + 4, content_length);
    response = handler_(*request);
  }
  const std::string out =
      absl::StrCat("HTTP/1.1 ", response.status, " ", ReasonPhrase(response.status),
                   "\r\nContent-Type: ", response.content_type,
                   "\r\nContent-Length: ", response.body.size(),
                   "\r\nConnection: close\r\n\r\n", response.body);
  size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && WaitFor(fd, POLLOUT, deadline)) continue;
      return;
    }
    sent += static_cast<size_t>(n);
  }
}

}  // namespace kv::faultproxy
