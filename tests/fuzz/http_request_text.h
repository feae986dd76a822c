#ifndef KV_TESTS_FUZZ_HTTP_REQUEST_TEXT_H_
#define KV_TESTS_FUZZ_HTTP_REQUEST_TEXT_H_

// The HTTP front ends' fuzz input: a request written as HTTP/1.1 text, so
// the corpus is readable and easy to extend by hand:
//   METHOD TARGET\n
//   name: value\n        (any number of header lines)
//   \n
//   body                 (every byte to the end)
// Parsed leniently (any bytes anywhere, missing parts are empty), as the
// handler gets what the HTTP library accepted: header names lower-cased,
// the target split at its first '?'.

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "common/http/http_message.h"

namespace kv::http {

inline HttpRequest RequestFromText(absl::string_view text) {
  HttpRequest request;
  auto next_line = [&text]() {
    const size_t end = text.find('\n');
    absl::string_view line = text.substr(0, end);
    text = end == absl::string_view::npos ? absl::string_view() : text.substr(end + 1);
    return line;
  };
  absl::string_view first = next_line();
  const size_t space = first.find(' ');
  request.method = std::string(first.substr(0, space));
  absl::string_view target = space == absl::string_view::npos ? "" : first.substr(space + 1);
  const size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != absl::string_view::npos) request.query = std::string(target.substr(question + 1));
  while (!text.empty()) {
    absl::string_view line = next_line();
    if (line.empty()) break;
    const size_t colon = line.find(':');
    std::string name = absl::AsciiStrToLower(line.substr(0, colon));
    absl::string_view value =
        colon == absl::string_view::npos ? "" : absl::StripLeadingAsciiWhitespace(line.substr(colon + 1));
    request.headers.emplace_back(std::move(name), std::string(value));
  }
  request.body = std::string(text);
  return request;
}

}  // namespace kv::http

#endif  // KV_TESTS_FUZZ_HTTP_REQUEST_TEXT_H_
