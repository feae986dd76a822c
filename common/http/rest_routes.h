#ifndef KV_COMMON_HTTP_REST_ROUTES_H_
#define KV_COMMON_HTTP_REST_ROUTES_H_

// Internal to the REST handler: the parsed path and the handlers of each
// group of endpoints (rest_namespaces.cc, rest_records.cc).

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/http/http_message.h"
#include "common/http/kv_api.h"
#include "common/http/url_codec.h"
#include "common/limits.h"
#include "common/request_context.h"

namespace kv::http {

// /client/v4/accounts/{account}/storage/kv/namespaces[/{ns}[/{resource}[/{key}]]],
// every segment percent-decoded.
struct RestRoute {
  std::string account_id;
  std::string namespace_id;  // empty: the namespaces collection
  // "", "keys", "values", "metadata", "bulk", "bulk/delete", "bulk/get".
  std::string resource;
  std::string key;  // values and metadata
};

// INVALID_ARGUMENT (with HTTP detail 400/7003) for a path that is not a KV
// endpoint or a segment that does not decode.
absl::StatusOr<RestRoute> ParseRestPath(absl::string_view path);

// Everything a handler needs; the handlers fill `response` (success or
// error).
struct RestCall {
  KvApi& api;
  const Limits& limits;
  const RequestContext& context;
  const RestRoute& route;
  const QueryParams& query;
  const HttpRequest& request;
  HttpResponse* response;
};

// Fill call.response (success or the error's envelope) and return the
// outcome, for the request metrics.
absl::Status HandleNamespaces(const RestCall& call);
absl::Status HandleRecords(const RestCall& call);

// Account discovery: GET /client/v4/memberships and /client/v4/accounts,
// listing the one account the caller's token acts on (wrangler asks
// /memberships when CLOUDFLARE_ACCOUNT_ID is not set).
bool IsAccountDiscoveryPath(absl::string_view path);
absl::Status HandleAccountDiscovery(const RestCall& call);

// A paged list's page (1..1,000,000, default 1) and per_page (1..1,000,
// default `default_per_page`); 400 naming the bad value.
struct Paging {
  uint32_t page = 1;
  uint32_t per_page = 20;
};
absl::StatusOr<Paging> ParsePaging(const QueryParams& query, uint32_t default_per_page);

// The client-API operation a request maps to, as the request metrics name
// it ("get", "bulk_put", "bulk_get", ...; "other" when none).
absl::string_view RestOp(const RestRoute& route, absl::string_view method);

// Writes a value read (the raw bytes, or 404/10009) from a Get response.
void RenderValue(const kv::v1::GetResponse& got, HttpResponse* response);

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_REST_ROUTES_H_
