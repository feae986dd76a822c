#ifndef KV_COMMON_HTTP_HTTP_MESSAGE_H_
#define KV_COMMON_HTTP_HTTP_MESSAGE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace kv::http {

// One HTTP/1.1 request as the server read it, independent of the HTTP
// library. The target is kept as sent: decoding is the handler's job.
struct HttpRequest {
  // Upper-case, as sent: "GET", "PUT", ...
  std::string method;
  // The origin-form target as sent ("/a%2Fb?x=1"), split at the first '?'.
  std::string path;
  std::string query;
  // Header names lower-cased; values as sent, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first value of header `lower_name`, or nullptr.
  const std::string* Header(absl::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return &value;
    }
    return nullptr;
  }
};

// One response. `reason` replaces the standard reason phrase when set (the
// workerd protocol shows it to Workers); the server makes it safe (ASCII,
// no CR/LF, at most 512 characters). Content-Length and Connection are
// set by the server.
struct HttpResponse {
  int status = 200;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  void AddHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_HTTP_MESSAGE_H_
