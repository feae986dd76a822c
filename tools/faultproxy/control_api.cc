#include "tools/faultproxy/control_api.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace kv::faultproxy {
namespace {

using nlohmann::json;

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return 200;
    case absl::StatusCode::kInvalidArgument: return 400;
    case absl::StatusCode::kNotFound: return 404;
    case absl::StatusCode::kAlreadyExists: return 409;
    case absl::StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

HttpResponse JsonResponse(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  return r;
}

HttpResponse Error(const absl::Status& status) {
  return JsonResponse(HttpStatusOf(status), json{{"error", std::string(status.message())}});
}

HttpResponse Error(int http_status, const std::string& message) {
  return JsonResponse(http_status, json{{"error", message}});
}

// The body as a JSON object; an empty body is {}.
absl::StatusOr<json> ParseBody(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object();
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::InvalidArgumentError("the body is not valid JSON");
  }
  if (!parsed.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the body must be a JSON object, not ", parsed.dump()));
  }
  return parsed;
}

// Reads an optional string field; INVALID_ARGUMENT when present and not a string.
absl::StatusOr<std::optional<std::string>> StringField(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", field, "\" must be a string, not ", it->dump()));
  }
  return std::optional<std::string>(it->get<std::string>());
}

absl::Status CheckOnlyFields(const json& body, const std::vector<std::string>& known) {
  for (const auto& [key, value] : body.items()) {
    bool ok = false;
    for (const std::string& k : known) ok = ok || k == key;
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown field \"", key, "\" (known: ", absl::StrJoin(known, ", "), ")"));
    }
  }
  return absl::OkStatus();
}

// "" or absent: no target.
absl::StatusOr<std::optional<HostPort>> ParseTarget(const std::optional<std::string>& text) {
  if (!text.has_value() || text->empty()) return std::optional<HostPort>();
  absl::StatusOr<HostPort> target = ParseHostPort(*text, /*allow_port_zero=*/false);
  if (!target.ok()) return target.status();
  return std::optional<HostPort>(*target);
}

HttpResponse AddLink(LinkSet& links, const std::string& body_text) {
  absl::StatusOr<json> body = ParseBody(body_text);
  if (!body.ok()) return Error(body.status());
  if (absl::Status s = CheckOnlyFields(*body, {"name", "target", "listen"}); !s.ok()) {
    return Error(s);
  }
  absl::StatusOr<std::optional<std::string>> name = StringField(*body, "name");
  if (!name.ok()) return Error(name.status());
  if (!name->has_value()) return Error(400, "\"name\" is required");
  absl::StatusOr<std::optional<std::string>> target_text = StringField(*body, "target");
  if (!target_text.ok()) return Error(target_text.status());
  absl::StatusOr<std::optional<HostPort>> target = ParseTarget(*target_text);
  if (!target.ok()) return Error(target.status());
  absl::StatusOr<std::optional<std::string>> listen_text = StringField(*body, "listen");
  if (!listen_text.ok()) return Error(listen_text.status());
  HostPort listen{"127.0.0.1", 0};
  if (listen_text->has_value()) {
    absl::StatusOr<HostPort> parsed = ParseHostPort(**listen_text, /*allow_port_zero=*/true);
    if (!parsed.ok()) return Error(parsed.status());
    listen = *parsed;
  }
  absl::StatusOr<std::shared_ptr<Link>> link = links.Add(**name, listen, *target);
  if (!link.ok()) return Error(link.status());
  return JsonResponse(201, (*link)->ToJson());
}

HttpResponse LinkAction(LinkSet& links, const std::string& name, const std::string& action,
                        const HttpRequest& request) {
  if (action.empty()) {
    if (request.method == "GET") {
      absl::StatusOr<std::shared_ptr<Link>> link = links.Get(name);
      if (!link.ok()) return Error(link.status());
      return JsonResponse(200, (*link)->ToJson());
    }
    if (request.method == "DELETE") {
      if (absl::Status s = links.Remove(name); !s.ok()) return Error(s);
      return JsonResponse(200, json{{"removed", name}});
    }
    return Error(405, absl::StrCat(request.method, " /links/NAME: use GET or DELETE"));
  }
  if (request.method != "POST") {
    return Error(405, absl::StrCat(request.method, " /links/NAME/", action, ": use POST"));
  }
  absl::StatusOr<std::shared_ptr<Link>> link = links.Get(name);
  if (!link.ok()) return Error(link.status());
  absl::StatusOr<json> body = ParseBody(request.body);
  if (!body.ok()) return Error(body.status());
  if (action == "target") {
    if (absl::Status s = CheckOnlyFields(*body, {"target"}); !s.ok()) return Error(s);
    if (body->find("target") == body->end()) {
      return Error(400, "\"target\" is required (\"\" unsets it)");
    }
    absl::StatusOr<std::optional<std::string>> text = StringField(*body, "target");
    if (!text.ok()) return Error(text.status());
    absl::StatusOr<std::optional<HostPort>> target = ParseTarget(*text);
    if (!target.ok()) return Error(target.status());
    (*link)->SetTarget(*target);
    return JsonResponse(200, (*link)->ToJson());
  }
  if (action == "fault" || action == "clear") {
    LinkFaults faults;  // "clear": none
    if (action == "fault") {
      faults = (*link)->faults();
      if (absl::Status s = ApplyFaultPatch(*body, faults); !s.ok()) return Error(s);
    } else if (!body->empty()) {
      return Error(400, "POST /links/NAME/clear takes no fields");
    }
    if (absl::Status s = (*link)->SetFaults(faults); !s.ok()) return Error(s);
    return JsonResponse(200, (*link)->ToJson());
  }
  if (action == "reset") {
    if (!body->empty()) return Error(400, "POST /links/NAME/reset takes no fields");
    const int reset = (*link)->ResetConnections();
    return JsonResponse(200, json{{"reset", reset}});
  }
  return Error(404, absl::StrCat("unknown action \"", action,
                                 "\" (known: target, fault, clear, reset)"));
}

}  // namespace

HttpResponse HandleControlRequest(LinkSet& links, const HttpRequest& request) {
  const std::vector<std::string> parts =
      absl::StrSplit(request.path, '/', absl::SkipEmpty());
  if (parts.size() == 1 && parts[0] == "healthz") {
    return JsonResponse(200, json{{"ok", true}});
  }
  if (parts.size() == 1 && parts[0] == "clear") {
    if (request.method != "POST") return Error(405, "/clear: use POST");
    if (absl::Status s = links.ClearAll(); !s.ok()) return Error(s);
    return JsonResponse(200, links.ToJson());
  }
  if (!parts.empty() && parts[0] == "links") {
    if (parts.size() == 1) {
      if (request.method == "GET") return JsonResponse(200, links.ToJson());
      if (request.method == "POST") return AddLink(links, request.body);
      return Error(405, absl::StrCat(request.method, " /links: use GET or POST"));
    }
    if (parts.size() <= 3) {
      return LinkAction(links, parts[1], parts.size() == 3 ? parts[2] : "", request);
    }
  }
  return Error(404, absl::StrCat("no route ", request.method, " ", request.path,
                                 " (see docs/faultproxy.md)"));
}

}  // namespace kv::faultproxy
