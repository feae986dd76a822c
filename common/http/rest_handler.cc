#include "common/http/rest_handler.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
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

absl::string_view RestOp(const RestRoute& route, absl::string_view method) {
  const std::string& r = route.resource;
  if (route.namespace_id.empty()) {
    return method == "GET" ? "list_namespaces" : method == "POST" ? "create_namespace" : "other";
  }
  if (r.empty()) {
    return method == "GET"      ? "get_namespace"
           : method == "PUT"    ? "rename_namespace"
           : method == "DELETE" ? "delete_namespace"
                                : "other";
  }
  if (r == "keys") return "list";
  if (r == "metadata") return "get";
  if (r == "values") {
    return method == "GET" ? "get" : method == "PUT" ? "put" : method == "DELETE" ? "delete"
                                                                                  : "other";
  }
  if (r == "bulk") return method == "PUT" ? "bulk_put" : "bulk_delete";
  if (r == "bulk/delete") return "bulk_delete";
  if (r == "bulk/get") return "bulk_get";
  return "other";
}

void RestHandler::Record(absl::string_view op, const absl::Status& status, absl::Time start) {
  if (metrics_ == nullptr) return;
  metrics_->Record(op, static_cast<grpc::StatusCode>(status.code()), absl::Now() - start);
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
  const absl::Time start = absl::Now();
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
  Record("get", *status, start);
  return true;
}

void RestHandler::Handle(const HttpRequest& request, HttpResponse* response) {
  const absl::Time start = absl::Now();
  const bool discovery = IsAccountDiscoveryPath(request.path);
  absl::StatusOr<RestRoute> route = discovery ? RestRoute{} : ParseRestPath(request.path);
  if (!route.ok()) {
    RenderRestError(route.status(), response);
    return Record("other", route.status(), start);
  }
  const absl::string_view op = discovery ? "other" : RestOp(*route, request.method);
  absl::StatusOr<QueryParams> query = ParseQuery(request.query);
  if (!query.ok()) {
    RenderRestError(query.status(), response);
    return Record(op, query.status(), start);
  }
  const RequestContext context = ContextOf(request);
  const RestCall call{api_, limits_, context, *route, *query, request, response};
  Record(op,
         discovery                 ? HandleAccountDiscovery(call)
         : route->resource.empty() ? HandleNamespaces(call)
                                   : HandleRecords(call),
         start);
}

void RestHandler::RenderError(int status, absl::string_view message,
                              HttpResponse* response) const {
  RenderRestError(status, status == 413 ? kCfLimit : kCfBadRequest, message, response);
}

}  // namespace kv::http
