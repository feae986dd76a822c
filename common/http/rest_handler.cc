#include "common/http/rest_handler.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/error_space.h"
#include "common/http/http_error.h"
#include "common/http/rest_routes.h"

namespace kv::http {
namespace {

constexpr char kPrefix[] = "/client/v4/accounts/";
constexpr uint64_t kEnvelopeBytes = 64 << 10;
constexpr uint64_t kSmallBodyBytes = 1 << 20;

absl::Status NoRoute(absl::string_view path) {
  return WithHttpDetail(
      absl::InvalidArgumentError(absl::StrCat("Could not route to ", path.substr(0, 200),
                                              ", perhaps your object identifier is invalid?")),
      400, 7003);
}

RequestContext ContextOf(const HttpRequest& request) {
  RequestContext context;
  if (const std::string* auth = request.Header("authorization")) context.authorization = *auth;
  return context;
}

}  // namespace

absl::StatusOr<RestRoute> ParseRestPath(absl::string_view path) {
  absl::string_view rest = path;
  if (!absl::ConsumePrefix(&rest, kPrefix)) return NoRoute(path);
  std::vector<absl::string_view> raw = absl::StrSplit(rest, '/');
  // account, "storage", "kv", "namespaces", [ns, [resource..., [key]]]
  if (raw.size() < 4 || raw[1] != "storage" || raw[2] != "kv" || raw[3] != "namespaces") {
    return NoRoute(path);
  }
  std::vector<std::string> segments;
  for (absl::string_view s : raw) {
    std::optional<std::string> decoded = PercentDecode(s);
    if (!decoded) {
      return WithHttpDetail(absl::InvalidArgumentError(absl::StrCat(
                                "Could not URL-decode path segment \"", s.substr(0, 64), "\"")),
                            400, kCfBadRequest);
    }
    segments.push_back(std::move(*decoded));
  }
  RestRoute route;
  route.account_id = segments[0];
  if (segments.size() == 4) return route;
  route.namespace_id = segments[4];
  if (route.namespace_id.empty()) return NoRoute(path);
  if (segments.size() == 5) return route;
  const std::string& resource = segments[5];
  if (segments.size() == 6 && (resource == "keys" || resource == "bulk")) {
    route.resource = resource;
    return route;
  }
  if (segments.size() == 7 && resource == "bulk" &&
      (segments[6] == "delete" || segments[6] == "get")) {
    route.resource = absl::StrCat("bulk/", segments[6]);
    return route;
  }
  if (segments.size() == 7 && (resource == "values" || resource == "metadata")) {
    route.resource = resource;
    route.key = segments[6];
    return route;
  }
  return NoRoute(path);
}

uint64_t RestHandler::BodyLimit(const HttpRequest& head) const {
  if (absl::StrContains(head.path, "/values/")) return limits_.max_value_bytes + kEnvelopeBytes;
  if (absl::EndsWith(head.path, "/bulk") || absl::EndsWith(head.path, "/bulk/delete")) {
    return limits_.max_bulk_request_bytes;
  }
  return kSmallBodyBytes;
}

bool RestHandler::TryHandleInline(const HttpRequest& request, HttpResponse* response) {
  if (request.method != "GET" || !absl::StrContains(request.path, "/values/")) return false;
  absl::StatusOr<RestRoute> route = ParseRestPath(request.path);
  if (!route.ok() || route->resource != "values" || !request.query.empty()) return false;
  kv::v1::GetRequest get;
  get.set_account_id(route->account_id);
  get.set_namespace_id(route->namespace_id);
  get.add_keys(route->key);
  kv::v1::GetResponse got;
  std::optional<absl::Status> status = api_.TryGetFromCache(ContextOf(request), get, &got);
  if (!status) return false;
  if (!status->ok()) {
    RenderRestError(*status, response);
  } else {
    RenderValue(got, response);
  }
  return true;
}

void RestHandler::Handle(const HttpRequest& request, HttpResponse* response) {
  absl::StatusOr<RestRoute> route = ParseRestPath(request.path);
  if (!route.ok()) return RenderRestError(route.status(), response);
  absl::StatusOr<QueryParams> query = ParseQuery(request.query);
  if (!query.ok()) return RenderRestError(query.status(), response);
  const RequestContext context = ContextOf(request);
  const RestCall call{api_, limits_, context, *route, *query, request, response};
  if (route->resource.empty()) return HandleNamespaces(call);
  return HandleRecords(call);
}

void RestHandler::RenderError(int status, absl::string_view message,
                              HttpResponse* response) const {
  RenderRestError(status, status == 413 ? kCfLimit : kCfBadRequest, message, response);
}

}  // namespace kv::http
