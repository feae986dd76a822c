#include "common/http/http_error.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/error_space.h"

namespace kv::http {

HttpError HttpErrorOf(const absl::Status& status) {
  if (std::optional<HttpDetail> detail = GetHttpDetail(status)) {
    return {detail->http_status, detail->cf_code};
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return {400, kCfBadRequest};
    case absl::StatusCode::kAlreadyExists:
      return {400, kCfDuplicateTitle};
    case absl::StatusCode::kUnauthenticated:
      return {401, kCfAuthError};
    case absl::StatusCode::kPermissionDenied:
      return {403, kCfAuthError};
    case absl::StatusCode::kNotFound:
      return {404, kCfNamespaceNotFound};
    case absl::StatusCode::kResourceExhausted:
      return {429, kCfLimit};
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
      return {503, 10043};
    case absl::StatusCode::kDeadlineExceeded:
      return {504, 10043};
    default:
      return {500, 10002};
  }
}

void AddRetryHeaders(int http_status, HttpResponse* response) {
  if (http_status == 429 || http_status == 503) {
    response->AddHeader("Retry-After", "1");
  } else if (http_status >= 400) {
    response->AddHeader("x-should-retry", "false");
  }
}

std::string JsonQuote(absl::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false,
                                              nlohmann::json::error_handler_t::replace);
}

void RenderRestError(int http_status, int cf_code, absl::string_view message,
                     HttpResponse* response) {
  response->status = http_status;
  response->headers.clear();
  response->AddHeader("Content-Type", "application/json");
  AddRetryHeaders(http_status, response);
  response->body = absl::StrCat(R"({"success":false,"errors":[{"code":)", cf_code,
                                R"(,"message":)", JsonQuote(message),
                                R"(}],"messages":[],"result":null})");
}

void RenderRestError(const absl::Status& status, HttpResponse* response) {
  const HttpError error = HttpErrorOf(status);
  RenderRestError(error.status, error.cf_code, status.message(), response);
}

void RenderRestSuccess(absl::string_view result_json, absl::string_view result_info_json,
                       HttpResponse* response) {
  response->status = 200;
  response->AddHeader("Content-Type", "application/json");
  response->body = absl::StrCat(R"({"success":true,"errors":[],"messages":[],"result":)",
                                result_json);
  if (!result_info_json.empty()) absl::StrAppend(&response->body, R"(,"result_info":)",
                                                 result_info_json);
  response->body.push_back('}');
}

void RenderWorkerdError(int http_status, absl::string_view message, HttpResponse* response) {
  response->status = http_status;
  response->reason = std::string(message.substr(0, 512));
  response->headers.clear();
  response->AddHeader("Content-Type", "text/plain; charset=utf-8");
  AddRetryHeaders(http_status, response);
  response->body = std::string(message);
}

void RenderWorkerdError(const absl::Status& status, HttpResponse* response) {
  RenderWorkerdError(HttpErrorOf(status).status, status.message(), response);
}

}  // namespace kv::http
