#include "common/http/workerd_handler.h"

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/error_space.h"
#include "common/http/http_error.h"
#include "common/http/url_codec.h"

namespace kv::http {
namespace {

using json = nlohmann::json;

constexpr uint64_t kSmallBodyBytes = 1 << 20;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

absl::Status BadRequest(std::string message) {
  return WithHttpDetail(absl::InvalidArgumentError(std::move(message)), 400, kCfBadRequest);
}

// Identity and target of one request.
struct Call {
  RequestContext context;
  std::string namespace_id;
  QueryParams query;
  std::string key;  // for /<key>
};

absl::StatusOr<Call> ParseCall(const HttpRequest& request, bool is_key) {
  Call call;
  if (const std::string* auth = request.Header("authorization")) {
    call.context.authorization = *auth;
  }
  const std::string* ns = request.Header("x-kv-namespace-id");
  if (ns == nullptr || ns->empty()) {
    return BadRequest("Missing X-KV-Namespace-Id header (inject it in the Worker's config)");
  }
  call.namespace_id = *ns;
  absl::StatusOr<QueryParams> query = ParseQuery(request.query);
  if (!query.ok()) return BadRequest(std::string(query.status().message()));
  call.query = std::move(*query);
  if (is_key) {
    std::optional<std::string> key = PercentDecode(absl::string_view(request.path).substr(1));
    if (!key) return BadRequest("Could not URL-decode key name");
    call.key = std::move(*key);
  }
  return call;
}

absl::Status ReadCacheTtl(const Call& call, kv::v1::GetRequest* request) {
  if (const std::string* raw = FindParam(call.query, "cache_ttl")) {
    int64_t ttl = 0;
    if (!absl::SimpleAtoi(*raw, &ttl) || ttl <= 0 || ttl > UINT32_MAX) {
      return BadRequest(absl::StrCat("Invalid cache_ttl of ", raw->substr(0, 64),
                                     ". Please specify integer greater than 0."));
    }
    request->set_cache_ttl(static_cast<uint32_t>(ttl));
  }
  return absl::OkStatus();
}

kv::v1::GetRequest SingleGet(const Call& call) {
  kv::v1::GetRequest request;
  request.set_namespace_id(call.namespace_id);
  request.add_keys(call.key);
  request.set_with_metadata(true);
  return request;
}

void RenderGet(const kv::v1::GetResponse& got, HttpResponse* response) {
  if (!got.cache_status().empty()) response->AddHeader("CF-Cache-Status", got.cache_status());
  if (got.entries_size() != 1 || !got.entries(0).found()) {
    response->status = 404;
    response->reason = "Not Found";
    return;
  }
  const kv::v1::Entry& e = got.entries(0);
  response->status = 200;
  if (e.has_metadata()) response->AddHeader("CF-KV-Metadata", e.metadata());
  if (e.expiration() != 0) response->AddHeader("CF-Expiration", absl::StrCat(e.expiration()));
  response->body = e.value();
}

absl::Status Get(KvApi& api, const Call& call, HttpResponse* response) {
  kv::v1::GetRequest request = SingleGet(call);
  if (absl::Status s = ReadCacheTtl(call, &request); !s.ok()) return s;
  kv::v1::GetResponse got;
  if (absl::Status s = api.Get(call.context, request, &got); !s.ok()) return s;
  RenderGet(got, response);
  return absl::OkStatus();
}

absl::Status Put(KvApi& api, const Call& call, const HttpRequest& http,
                 HttpResponse* response) {
  kv::v1::PutRequest request;
  request.set_namespace_id(call.namespace_id);
  request.set_key(call.key);
  request.set_value(http.body);
  if (const std::string* raw = FindParam(call.query, "expiration_ttl")) {
    int64_t ttl = 0;
    if (!absl::SimpleAtoi(*raw, &ttl) || ttl <= 0) {
      return BadRequest(absl::StrCat("Invalid expiration_ttl of ", raw->substr(0, 64),
                                     ". Please specify integer greater than 0."));
    }
    request.set_expiration_ttl(ttl);
  }
  if (const std::string* raw = FindParam(call.query, "expiration")) {
    int64_t expiration = 0;
    if (!absl::SimpleAtoi(*raw, &expiration) || expiration <= 0) {
      return BadRequest(absl::StrCat("Invalid expiration of ", raw->substr(0, 64),
                                     ". Please specify integer greater than the current number "
                                     "of seconds since the UNIX epoch."));
    }
    request.set_expiration(expiration);
  }
  if (const std::string* metadata = http.Header("cf-kv-metadata")) {
    request.set_metadata(*metadata);
  }
  kv::v1::PutResponse put;
  if (absl::Status s = api.Put(call.context, request, &put); !s.ok()) return s;
  response->status = 200;
  return absl::OkStatus();
}

absl::Status Delete(KvApi& api, const Call& call, HttpResponse* response) {
  kv::v1::DeleteRequest request;
  request.set_namespace_id(call.namespace_id);
  request.set_key(call.key);
  kv::v1::DeleteResponse deleted;
  if (absl::Status s = api.Delete(call.context, request, &deleted); !s.ok()) return s;
  response->status = 200;
  return absl::OkStatus();
}

absl::Status List(KvApi& api, const Call& call, const Limits& limits, HttpResponse* response) {
  kv::v1::ListRequest request;
  request.set_namespace_id(call.namespace_id);
  if (const std::string* prefix = FindParam(call.query, "prefix")) request.set_prefix(*prefix);
  if (const std::string* cursor = FindParam(call.query, "cursor")) request.set_cursor(*cursor);
  if (const std::string* raw = FindParam(call.query, "key_count_limit")) {
    int64_t limit = 0;
    if (!absl::SimpleAtoi(*raw, &limit) || limit < 1) {
      return BadRequest(absl::StrCat("Invalid key_count_limit of ", raw->substr(0, 64),
                                     ". Please specify an integer greater than 0."));
    }
    if (limit > limits.max_list_limit) {
      return BadRequest(absl::StrCat("Invalid key_count_limit of ", limit,
                                     ". Please specify an integer less than ",
                                     limits.max_list_limit, "."));
    }
    request.set_limit(static_cast<uint32_t>(limit));
  }
  kv::v1::ListResponse listed;
  if (absl::Status s = api.List(call.context, request, &listed); !s.ok()) return s;
  json keys = json::array();
  for (const kv::v1::ListedKey& key : listed.keys()) {
    json entry{{"name", key.name()}};
    if (key.expiration() != 0) entry["expiration"] = key.expiration();
    if (key.has_metadata()) entry["metadata"] = key.metadata();  // JSON text, as a string
    keys.push_back(std::move(entry));
  }
  json result{{"keys", std::move(keys)}, {"list_complete", listed.list_complete()}};
  if (!listed.list_complete()) result["cursor"] = listed.cursor();
  response->status = 200;
  response->AddHeader("Content-Type", "application/json");
  response->body = Dump(result);
  return absl::OkStatus();
}

absl::Status BulkGet(KvApi& api, const Call& call, const HttpRequest& http,
                     HttpResponse* response) {
  json body = json::parse(http.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return BadRequest("Request body must be a JSON object {\"keys\": [...]}");
  }
  auto keys = body.find("keys");
  if (keys == body.end() || !keys->is_array()) {
    return BadRequest("Request body must have an array field \"keys\"");
  }
  kv::v1::GetRequest request;
  request.set_namespace_id(call.namespace_id);
  for (const json& key : *keys) {
    if (!key.is_string()) return BadRequest("\"keys\" must hold strings only");
    request.add_keys(key.get<std::string>());
  }
  bool as_json = false;
  if (auto type = body.find("type"); type != body.end() && !type->is_null()) {
    const std::string t = type->is_string() ? type->get<std::string>() : type->dump();
    if (t != "text" && t != "json") {
      return BadRequest(absl::StrCat("\"", t.substr(0, 64),
                                     "\" is not a valid type. Use \"json\" or \"text\""));
    }
    as_json = t == "json";
  }
  bool with_metadata = false;
  if (auto wm = body.find("withMetadata"); wm != body.end() && !wm->is_null()) {
    if (!wm->is_boolean()) return BadRequest("\"withMetadata\" must be a boolean");
    with_metadata = wm->get<bool>();
  }
  if (auto ttl = body.find("cacheTtl"); ttl != body.end() && !ttl->is_null()) {
    int64_t seconds = 0;
    const bool ok = ttl->is_string() ? absl::SimpleAtoi(ttl->get<std::string>(), &seconds)
                                     : ttl->is_number_integer() && (seconds = ttl->get<int64_t>(), true);
    if (!ok || seconds <= 0 || seconds > UINT32_MAX) {
      return BadRequest(absl::StrCat("Invalid cache_ttl of ", ttl->dump().substr(0, 64),
                                     ". Please specify integer greater than 0."));
    }
    request.set_cache_ttl(static_cast<uint32_t>(seconds));
  }
  request.set_with_metadata(with_metadata);
  kv::v1::GetResponse got;
  if (absl::Status s = api.Get(call.context, request, &got); !s.ok()) return s;
  json result = json::object();
  for (const kv::v1::Entry& e : got.entries()) {
    if (!e.found()) {
      result[e.key()] = nullptr;
      continue;
    }
    json value;
    if (as_json) {
      value = json::parse(e.value(), nullptr, false);
      if (value.is_discarded()) {
        return BadRequest("At least one of the requested keys corresponds to a non-json value");
      }
    } else {
      value = e.value();
    }
    if (with_metadata) {
      json metadata = nullptr;
      if (e.has_metadata()) {
        metadata = json::parse(e.metadata(), nullptr, false);
        if (metadata.is_discarded()) metadata = e.metadata();
      }
      result[e.key()] = json{{"value", std::move(value)}, {"metadata", std::move(metadata)}};
    } else {
      result[e.key()] = std::move(value);
    }
  }
  response->status = 200;
  response->AddHeader("Content-Type", "application/json");
  response->body = Dump(result);
  return absl::OkStatus();
}

}  // namespace

uint64_t WorkerdHandler::BodyLimit(const HttpRequest& head) const {
  if (head.method == "PUT") return limits_.max_value_bytes;
  return kSmallBodyBytes;
}

void WorkerdHandler::Record(absl::string_view op, const absl::Status& status,
                            absl::Time start) {
  if (metrics_ == nullptr) return;
  metrics_->Record(op, static_cast<grpc::StatusCode>(status.code()), absl::Now() - start);
}

bool WorkerdHandler::TryHandleInline(const HttpRequest& request, HttpResponse* response) {
  if (request.method != "GET" || request.path.size() < 2) return false;
  const absl::Time start = absl::Now();
  absl::StatusOr<Call> call = ParseCall(request, /*is_key=*/true);
  if (!call.ok() || FindParam(call->query, "cache_ttl") != nullptr) return false;
  kv::v1::GetResponse got;
  std::optional<absl::Status> status = api_.TryGetFromCache(call->context, SingleGet(*call), &got);
  if (!status) return false;
  if (!status->ok()) {
    RenderWorkerdError(*status, response);
  } else {
    RenderGet(got, response);
  }
  Record("get", *status, start);
  return true;
}

void WorkerdHandler::Handle(const HttpRequest& request, HttpResponse* response) {
  const absl::Time start = absl::Now();
  const bool is_list = request.path == "/";
  const bool is_bulk = request.path == "/bulk/get";
  if (request.path.empty() || request.path[0] != '/') {
    return RenderWorkerdError(400, "Request target must start with /", response);
  }
  absl::StatusOr<Call> call = ParseCall(request, !is_list && !is_bulk);
  absl::Status status;
  if (!call.ok()) {
    status = call.status();
  } else if (is_list) {
    status = request.method == "GET"
                 ? List(api_, *call, limits_, response)
                 : BadRequest(absl::StrCat("Method ", request.method, " is not allowed on /"));
  } else if (is_bulk) {
    status = request.method == "POST"
                 ? BulkGet(api_, *call, request, response)
                 : BadRequest(absl::StrCat("Method ", request.method,
                                           " is not allowed on /bulk/get"));
  } else if (request.method == "GET") {
    status = Get(api_, *call, response);
  } else if (request.method == "PUT") {
    status = Put(api_, *call, request, response);
  } else if (request.method == "DELETE") {
    status = Delete(api_, *call, response);
  } else {
    status = WithHttpDetail(absl::InvalidArgumentError(absl::StrCat(
                                "Method ", request.method, " is not allowed on a key")),
                            405, 10405);
  }
  if (!status.ok()) RenderWorkerdError(status, response);
  absl::string_view op = "other";
  if (is_list) {
    op = "list";
  } else if (is_bulk) {
    op = "bulk_get";
  } else if (request.method == "GET") {
    op = "get";
  } else if (request.method == "PUT") {
    op = "put";
  } else if (request.method == "DELETE") {
    op = "delete";
  }
  Record(op, status, start);
}

std::string WorkerdHandler::BodyTooLargeMessage(const HttpRequest& head,
                                                std::optional<uint64_t> declared,
                                                uint64_t limit) const {
  if (head.method != "PUT") return HttpHandler::BodyTooLargeMessage(head, declared, limit);
  if (declared) return absl::StrCat("Value length of ", *declared, " exceeds limit of ", limit, ".");
  return absl::StrCat("Value length exceeds limit of ", limit, ".");
}

void WorkerdHandler::RenderError(int status, absl::string_view message,
                                 HttpResponse* response) const {
  RenderWorkerdError(status, message, response);
}

}  // namespace kv::http
