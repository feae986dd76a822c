// REST v4 namespace endpoints: list (pages), create, get, rename, delete.
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/error_space.h"
#include "common/http/http_error.h"
#include "common/http/rest_routes.h"

namespace kv::http {
namespace {

using json = nlohmann::json;

absl::Status BadRequest(std::string message) {
  return WithHttpDetail(absl::InvalidArgumentError(std::move(message)), 400, kCfBadRequest);
}

json NamespaceJson(const kv::v1::Namespace& ns) {
  return json{{"id", ns.id()}, {"title", ns.title()}, {"supports_url_encoding", true}};
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// The "title" of a JSON body {"title": "..."}.
absl::StatusOr<std::string> TitleOf(const HttpRequest& request) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return BadRequest("Request body is not valid JSON");
  if (!body.is_object()) return BadRequest("Request body must be a JSON object {\"title\": ...}");
  auto it = body.find("title");
  if (it == body.end() || !it->is_string()) {
    return BadRequest("Request body must have a string field \"title\"");
  }
  return it->get<std::string>();
}

absl::Status ListNamespaces(const RestCall& call) {
  kv::v1::ListNamespacesRequest request;
  request.set_account_id(call.route.account_id);
  absl::StatusOr<Paging> paging = ParsePaging(call.query, 20);
  if (!paging.ok()) return paging.status();
  request.set_page(paging->page);
  request.set_per_page(paging->per_page);
  if (const std::string* order = FindParam(call.query, "order")) {
    if (*order == "id") {
      request.set_order(kv::v1::ListNamespacesRequest::ORDER_ID);
    } else if (*order == "title") {
      request.set_order(kv::v1::ListNamespacesRequest::ORDER_TITLE);
    } else {
      return BadRequest(absl::StrCat("Invalid order \"", order->substr(0, 64),
                                     "\". Use \"id\" or \"title\"."));
    }
  }
  if (const std::string* direction = FindParam(call.query, "direction")) {
    if (*direction != "asc" && *direction != "desc") {
      return BadRequest(absl::StrCat("Invalid direction \"", direction->substr(0, 64),
                                     "\". Use \"asc\" or \"desc\"."));
    }
    request.set_descending(*direction == "desc");
  }
  kv::v1::ListNamespacesResponse listed;
  if (absl::Status s = call.api.ListNamespaces(call.context, request, &listed); !s.ok()) {
    return s;
  }
  json result = json::array();
  for (const kv::v1::Namespace& ns : listed.namespaces()) result.push_back(NamespaceJson(ns));
  const json info{{"page", listed.page()},
                  {"per_page", listed.per_page()},
                  {"count", listed.namespaces_size()},
                  {"total_count", listed.total_count()}};
  RenderRestSuccess(Dump(result), Dump(info), call.response);
  return absl::OkStatus();
}

absl::Status Collection(const RestCall& call) {
  if (call.request.method == "GET") return ListNamespaces(call);
  if (call.request.method == "POST") {
    absl::StatusOr<std::string> title = TitleOf(call.request);
    if (!title.ok()) return title.status();
    kv::v1::CreateNamespaceRequest request;
    request.set_account_id(call.route.account_id);
    request.set_title(*title);
    kv::v1::Namespace created;
    if (absl::Status s = call.api.CreateNamespace(call.context, request, &created); !s.ok()) {
      return s;
    }
    RenderRestSuccess(Dump(NamespaceJson(created)), "", call.response);
    return absl::OkStatus();
  }
  return WithHttpDetail(absl::InvalidArgumentError(absl::StrCat(
                            "Method ", call.request.method, " is not allowed on namespaces")),
                        405, 10405);
}

absl::Status OneNamespace(const RestCall& call) {
  const std::string& method = call.request.method;
  kv::v1::Namespace ns;
  if (method == "GET") {
    kv::v1::GetNamespaceRequest request;
    request.set_account_id(call.route.account_id);
    request.set_namespace_id(call.route.namespace_id);
    if (absl::Status s = call.api.GetNamespace(call.context, request, &ns); !s.ok()) return s;
  } else if (method == "PUT") {
    absl::StatusOr<std::string> title = TitleOf(call.request);
    if (!title.ok()) return title.status();
    kv::v1::RenameNamespaceRequest request;
    request.set_account_id(call.route.account_id);
    request.set_namespace_id(call.route.namespace_id);
    request.set_title(*title);
    if (absl::Status s = call.api.RenameNamespace(call.context, request, &ns); !s.ok()) return s;
  } else if (method == "DELETE") {
    kv::v1::DeleteNamespaceRequest request;
    request.set_account_id(call.route.account_id);
    request.set_namespace_id(call.route.namespace_id);
    kv::v1::DeleteNamespaceResponse deleted;
    if (absl::Status s = call.api.DeleteNamespace(call.context, request, &deleted); !s.ok()) {
      return s;
    }
    RenderRestSuccess("{}", "", call.response);
    return absl::OkStatus();
  } else {
    return WithHttpDetail(absl::InvalidArgumentError(absl::StrCat(
                              "Method ", method, " is not allowed on a namespace")),
                          405, 10405);
  }
  RenderRestSuccess(Dump(NamespaceJson(ns)), "", call.response);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Paging> ParsePaging(const QueryParams& query, uint32_t default_per_page) {
  absl::StatusOr<std::optional<int64_t>> page = IntParam(query, "page");
  if (!page.ok()) return BadRequest(std::string(page.status().message()));
  absl::StatusOr<std::optional<int64_t>> per_page = IntParam(query, "per_page");
  if (!per_page.ok()) return BadRequest(std::string(per_page.status().message()));
  if (page->has_value() && (**page < 1 || **page > 1'000'000)) {
    return BadRequest(absl::StrCat("Invalid page of ", **page,
                                   ". Please specify an integer from 1 to 1000000."));
  }
  if (per_page->has_value() && (**per_page < 1 || **per_page > 1000)) {
    return BadRequest(absl::StrCat("Invalid per_page of ", **per_page,
                                   ". Please specify an integer from 1 to 1000."));
  }
  Paging paging;
  paging.page = static_cast<uint32_t>(page->value_or(1));
  paging.per_page = static_cast<uint32_t>(per_page->value_or(default_per_page));
  return paging;
}

absl::Status HandleNamespaces(const RestCall& call) {
  absl::Status s = call.route.namespace_id.empty() ? Collection(call) : OneNamespace(call);
  if (!s.ok()) RenderRestError(s, call.response);
  return s;
}

}  // namespace kv::http
