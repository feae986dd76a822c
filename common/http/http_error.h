#ifndef KV_COMMON_HTTP_HTTP_ERROR_H_
#define KV_COMMON_HTTP_HTTP_ERROR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/http/http_message.h"

namespace kv::http {

// The one conversion from absl::Status to HTTP (REST and workerd).
struct HttpError {
  int status = 500;
  // Cloudflare error code for the REST envelope.
  int cf_code = 10001;
};

// The status's HttpDetail (common/error_space.h) when it carries one;
// otherwise by code: INVALID_ARGUMENT/FAILED_PRECONDITION/OUT_OF_RANGE/
// ALREADY_EXISTS 400, UNAUTHENTICATED 401, PERMISSION_DENIED 403,
// NOT_FOUND 404, RESOURCE_EXHAUSTED 429, UNAVAILABLE/ABORTED/CANCELLED 503,
// DEADLINE_EXCEEDED 504, anything else 500. A client mistake is never 409
// nor 5xx (the SDK retries those).
HttpError HttpErrorOf(const absl::Status& status);

// Adds "Retry-After" (and "x-should-retry") where a retry may help (429,
// 503) or cannot (other errors).
void AddRetryHeaders(int http_status, HttpResponse* response);

// Cloudflare's REST envelope.
// {"success":false,"errors":[{"code":N,"message":"..."}],"messages":[],"result":null}
void RenderRestError(int http_status, int cf_code, absl::string_view message,
                     HttpResponse* response);
void RenderRestError(const absl::Status& status, HttpResponse* response);
// {"success":true,"errors":[],"messages":[],"result":<result_json>[,"result_info":<info>]}
// Both arguments are serialized JSON; `result_info_json` may be empty.
void RenderRestSuccess(absl::string_view result_json, absl::string_view result_info_json,
                       HttpResponse* response);

// The workerd protocol's error: the message is the reason phrase (the
// Worker shows it) and the body.
void RenderWorkerdError(int http_status, absl::string_view message, HttpResponse* response);
void RenderWorkerdError(const absl::Status& status, HttpResponse* response);

// A JSON string literal of `s` (quotes included); invalid UTF-8 becomes
// U+FFFD.
std::string JsonQuote(absl::string_view s);

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_HTTP_ERROR_H_
