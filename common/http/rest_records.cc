// REST v4 record endpoints: keys list, values get/put/delete, metadata,
// bulk write, bulk delete (PUT-less DELETE …/bulk and POST …/bulk/delete),
// bulk get. Every input is checked before the API is called.
#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/error_space.h"
#include "common/http/http_error.h"
#include "common/http/multipart.h"
#include "common/http/rest_routes.h"

namespace kv::http {
namespace {

using json = nlohmann::json;

absl::Status BadRequest(std::string message) {
  return WithHttpDetail(absl::InvalidArgumentError(std::move(message)), 400, kCfBadRequest);
}

absl::Status MethodNotAllowed(const RestCall& call) {
  return WithHttpDetail(
      absl::InvalidArgumentError(absl::StrCat("Method ", call.request.method,
                                              " is not allowed on ", call.route.resource)),
      405, 10405);
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Stored metadata text as a JSON value (it was validated as JSON when
// written; anything else is returned as a string).
json MetadataJson(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? json(text) : parsed;
}

// expiration / expiration_ttl query parameters, with miniflare's wording.
absl::Status ReadExpirations(const QueryParams& query, int64_t* expiration, int64_t* ttl) {
  if (const std::string* raw = FindParam(query, "expiration_ttl")) {
    if (!absl::SimpleAtoi(*raw, ttl) || *ttl <= 0) {
      return BadRequest(absl::StrCat("Invalid expiration_ttl of ", raw->substr(0, 64),
                                     ". Please specify integer greater than 0."));
    }
  }
  if (const std::string* raw = FindParam(query, "expiration")) {
    if (!absl::SimpleAtoi(*raw, expiration) || *expiration <= 0) {
      return BadRequest(absl::StrCat("Invalid expiration of ", raw->substr(0, 64),
                                     ". Please specify integer greater than the current number "
                                     "of seconds since the UNIX epoch."));
    }
  }
  return absl::OkStatus();
}

absl::Status ListKeys(const RestCall& call) {
  kv::v1::ListRequest request;
  request.set_account_id(call.route.account_id);
  request.set_namespace_id(call.route.namespace_id);
  if (const std::string* prefix = FindParam(call.query, "prefix")) request.set_prefix(*prefix);
  if (const std::string* cursor = FindParam(call.query, "cursor")) request.set_cursor(*cursor);
  if (const std::string* raw = FindParam(call.query, "limit")) {
    int64_t limit = 0;
    if (!absl::SimpleAtoi(*raw, &limit) || limit < 1) {
      return BadRequest(absl::StrCat("Invalid key_count_limit of ", raw->substr(0, 64),
                                     ". Please specify an integer greater than 0."));
    }
    if (limit > call.limits.max_list_limit) {
      return BadRequest(absl::StrCat("Invalid key_count_limit of ", limit,
                                     ". Please specify an integer less than ",
                                     call.limits.max_list_limit, "."));
    }
    request.set_limit(static_cast<uint32_t>(limit));
  }
  kv::v1::ListResponse listed;
  if (absl::Status s = call.api.List(call.context, request, &listed); !s.ok()) return s;
  json result = json::array();
  for (const kv::v1::ListedKey& key : listed.keys()) {
    json entry{{"name", key.name()}};
    if (key.expiration() != 0) entry["expiration"] = key.expiration();
    if (key.has_metadata()) entry["metadata"] = MetadataJson(key.metadata());
    result.push_back(std::move(entry));
  }
  const json info{{"count", listed.keys_size()},
                  {"cursor", listed.list_complete() ? "" : listed.cursor()}};
  RenderRestSuccess(Dump(result), Dump(info), call.response);
  return absl::OkStatus();
}

absl::Status GetOne(const RestCall& call, bool with_metadata, kv::v1::GetResponse* got) {
  kv::v1::GetRequest request;
  request.set_account_id(call.route.account_id);
  request.set_namespace_id(call.route.namespace_id);
  request.add_keys(call.route.key);
  request.set_with_metadata(with_metadata);
  return call.api.Get(call.context, request, got);
}

absl::Status KeyNotFound() {
  return WithHttpDetail(absl::NotFoundError("get: 'key not found'"), 404, kCfKeyNotFound);
}

absl::Status PutValue(const RestCall& call) {
  kv::v1::PutRequest request;
  request.set_account_id(call.route.account_id);
  request.set_namespace_id(call.route.namespace_id);
  request.set_key(call.route.key);
  int64_t expiration = 0, ttl = 0;
  if (absl::Status s = ReadExpirations(call.query, &expiration, &ttl); !s.ok()) return s;
  request.set_expiration(expiration);
  request.set_expiration_ttl(ttl);
  const std::string* content_type = call.request.Header("content-type");
  if (content_type != nullptr && IsMultipartFormData(*content_type)) {
    absl::StatusOr<std::vector<FormPart>> parts =
        ParseMultipartFormData(*content_type, call.request.body);
    if (!parts.ok()) return BadRequest(std::string(parts.status().message()));
    bool has_value = false;
    for (FormPart& part : *parts) {
      if (part.name == "value") {
        request.set_value(std::move(part.data));
        has_value = true;
      } else if (part.name == "metadata") {
        request.set_metadata(std::move(part.data));
      } else if (absl::StartsWith(part.name, "metadata[")) {
        return BadRequest("metadata must be sent as a JSON string");
      }
    }
    if (!has_value) return BadRequest("multipart body has no \"value\" part");
  } else {
    request.set_value(call.request.body);
  }
  kv::v1::PutResponse put;
  if (absl::Status s = call.api.Put(call.context, request, &put); !s.ok()) return s;
  RenderRestSuccess("{}", "", call.response);
  return absl::OkStatus();
}

absl::Status Values(const RestCall& call) {
  const std::string& method = call.request.method;
  if (method == "GET") {
    kv::v1::GetResponse got;
    if (absl::Status s = GetOne(call, false, &got); !s.ok()) return s;
    RenderValue(got, call.response);
    return absl::OkStatus();
  }
  if (method == "PUT") return PutValue(call);
  if (method == "DELETE") {
    kv::v1::DeleteRequest request;
    request.set_account_id(call.route.account_id);
    request.set_namespace_id(call.route.namespace_id);
    request.set_key(call.route.key);
    kv::v1::DeleteResponse deleted;
    if (absl::Status s = call.api.Delete(call.context, request, &deleted); !s.ok()) return s;
    RenderRestSuccess("{}", "", call.response);
    return absl::OkStatus();
  }
  return MethodNotAllowed(call);
}

absl::Status Metadata(const RestCall& call) {
  if (call.request.method != "GET") return MethodNotAllowed(call);
  kv::v1::GetResponse got;
  if (absl::Status s = GetOne(call, true, &got); !s.ok()) return s;
  if (got.entries_size() != 1 || !got.entries(0).found()) return KeyNotFound();
  const kv::v1::Entry& e = got.entries(0);
  RenderRestSuccess(e.has_metadata() ? Dump(MetadataJson(e.metadata())) : "null", "",
                    call.response);
  return absl::OkStatus();
}

absl::StatusOr<json> ParseBody(const RestCall& call) {
  json body = json::parse(call.request.body, nullptr, false);
  if (body.is_discarded()) return BadRequest("Request body is not valid JSON");
  return body;
}

// An integer field of a bulk entry; 0 when absent.
absl::Status IntField(const json& entry, const char* name, size_t index, int64_t* out) {
  auto it = entry.find(name);
  if (it == entry.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number() || (it->is_number_float() &&
                           std::floor(it->get<double>()) != it->get<double>())) {
    return BadRequest(absl::StrCat("entry ", index, ": \"", name, "\" must be an integer"));
  }
  *out = it->is_number_float() ? static_cast<int64_t>(it->get<double>()) : it->get<int64_t>();
  if (*out <= 0) {
    return BadRequest(absl::StrCat("entry ", index, ": Invalid ", name, " of ", *out,
                                   ". Please specify integer greater than 0."));
  }
  return absl::OkStatus();
}

absl::Status BulkWrite(const RestCall& call) {
  absl::StatusOr<json> body = ParseBody(call);
  if (!body.ok()) return body.status();
  if (!body->is_array()) {
    return BadRequest("Request body must be a JSON array of {key, value, ...} objects");
  }
  kv::v1::BulkPutRequest request;
  request.set_account_id(call.route.account_id);
  request.set_namespace_id(call.route.namespace_id);
  size_t index = 0;
  for (const json& entry : *body) {
    if (!entry.is_object()) return BadRequest(absl::StrCat("entry ", index, " is not an object"));
    auto key = entry.find("key");
    auto value = entry.find("value");
    if (key == entry.end() || !key->is_string()) {
      return BadRequest(absl::StrCat("entry ", index, ": \"key\" must be a string"));
    }
    const std::string key_text = key->get<std::string>();
    if (value == entry.end() || !value->is_string()) {
      return BadRequest(absl::StrCat("entry ", index, " (key \"", key_text.substr(0, 64),
                                     "\"): \"value\" must be a string"));
    }
    kv::v1::BulkPutEntry* out = request.add_entries();
    out->set_key(key_text);
    bool base64 = false;
    if (auto b = entry.find("base64"); b != entry.end() && !b->is_null()) {
      if (!b->is_boolean()) {
        return BadRequest(absl::StrCat("entry ", index, ": \"base64\" must be a boolean"));
      }
      base64 = b->get<bool>();
    }
    if (base64) {
      std::string decoded;
      if (!absl::Base64Unescape(value->get<std::string>(), &decoded)) {
        return BadRequest(absl::StrCat("entry ", index, " (key \"", key_text.substr(0, 64),
                                       "\"): \"value\" is not valid base64"));
      }
      out->set_value(std::move(decoded));
    } else {
      out->set_value(value->get<std::string>());
    }
    int64_t expiration = 0, ttl = 0;
    if (absl::Status s = IntField(entry, "expiration", index, &expiration); !s.ok()) return s;
    if (absl::Status s = IntField(entry, "expiration_ttl", index, &ttl); !s.ok()) return s;
    out->set_expiration(expiration);
    out->set_expiration_ttl(ttl);
    if (auto m = entry.find("metadata"); m != entry.end() && !m->is_null()) {
      out->set_metadata(Dump(*m));
    }
    ++index;
  }
  kv::v1::BulkPutResponse put;
  if (absl::Status s = call.api.BulkPut(call.context, request, &put); !s.ok()) return s;
  json unsuccessful = json::array();
  for (const std::string& k : put.unsuccessful_keys()) unsuccessful.push_back(k);
  RenderRestSuccess(Dump(json{{"successful_key_count", put.successful_key_count()},
                              {"unsuccessful_keys", unsuccessful}}),
                    "", call.response);
  return absl::OkStatus();
}

absl::Status BulkDelete(const RestCall& call) {
  absl::StatusOr<json> body = ParseBody(call);
  if (!body.ok()) return body.status();
  if (!body->is_array()) return BadRequest("Request body must be a JSON array of key strings");
  kv::v1::BulkDeleteRequest request;
  request.set_account_id(call.route.account_id);
  request.set_namespace_id(call.route.namespace_id);
  size_t index = 0;
  for (const json& key : *body) {
    if (!key.is_string()) return BadRequest(absl::StrCat("entry ", index, " is not a string"));
    request.add_keys(key.get<std::string>());
    ++index;
  }
  kv::v1::BulkDeleteResponse deleted;
  if (absl::Status s = call.api.BulkDelete(call.context, request, &deleted); !s.ok()) return s;
  RenderRestSuccess(Dump(json{{"successful_key_count", deleted.successful_key_count()},
                              {"unsuccessful_keys", json::array()}}),
                    "", call.response);
  return absl::OkStatus();
}

absl::Status BulkGet(const RestCall& call) {
  absl::StatusOr<json> body = ParseBody(call);
  if (!body.ok()) return body.status();
  if (!body->is_object()) return BadRequest("Request body must be a JSON object {\"keys\": [...]}");
  auto keys = body->find("keys");
  if (keys == body->end() || !keys->is_array()) {
    return BadRequest("Request body must have an array field \"keys\"");
  }
  kv::v1::GetRequest request;
  request.set_account_id(call.route.account_id);
  request.set_namespace_id(call.route.namespace_id);
  for (const json& key : *keys) {
    if (!key.is_string()) return BadRequest("\"keys\" must hold strings only");
    request.add_keys(key.get<std::string>());
  }
  bool as_json = false;
  if (auto type = body->find("type"); type != body->end() && !type->is_null()) {
    const std::string t = type->is_string() ? type->get<std::string>() : type->dump();
    if (t != "text" && t != "json") {
      return BadRequest(absl::StrCat("\"", t.substr(0, 64),
                                     "\" is not a valid type. Use \"json\" or \"text\""));
    }
    as_json = t == "json";
  }
  bool with_metadata = false;
  if (auto wm = body->find("withMetadata"); wm != body->end() && !wm->is_null()) {
    if (!wm->is_boolean()) return BadRequest("\"withMetadata\" must be a boolean");
    with_metadata = wm->get<bool>();
  }
  request.set_with_metadata(with_metadata);
  kv::v1::GetResponse got;
  if (absl::Status s = call.api.Get(call.context, request, &got); !s.ok()) return s;
  json values = json::object();
  for (const kv::v1::Entry& e : got.entries()) {
    if (!e.found()) {
      values[e.key()] = nullptr;
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
      json item{{"value", std::move(value)},
                {"metadata", e.has_metadata() ? MetadataJson(e.metadata()) : json(nullptr)}};
      if (e.expiration() != 0) item["expiration"] = e.expiration();
      values[e.key()] = std::move(item);
    } else {
      values[e.key()] = std::move(value);
    }
  }
  RenderRestSuccess(Dump(json{{"values", std::move(values)}}), "", call.response);
  return absl::OkStatus();
}

absl::Status Dispatch(const RestCall& call) {
  const std::string& resource = call.route.resource;
  const std::string& method = call.request.method;
  if (resource.empty()) return MethodNotAllowed(call);
  if (resource == "keys") return method == "GET" ? ListKeys(call) : MethodNotAllowed(call);
  if (resource == "values") return Values(call);
  if (resource == "metadata") return Metadata(call);
  if (resource == "bulk") {
    if (method == "PUT") return BulkWrite(call);
    if (method == "DELETE") return BulkDelete(call);
    return MethodNotAllowed(call);
  }
  if (resource == "bulk/delete") return method == "POST" ? BulkDelete(call) : MethodNotAllowed(call);
  if (resource == "bulk/get") return method == "POST" ? BulkGet(call) : MethodNotAllowed(call);
  return MethodNotAllowed(call);
}

}  // namespace

void RenderValue(const kv::v1::GetResponse& got, HttpResponse* response) {
  if (got.entries_size() != 1 || !got.entries(0).found()) {
    return RenderRestError(KeyNotFound(), response);
  }
  const kv::v1::Entry& e = got.entries(0);
  response->status = 200;
  response->AddHeader("Content-Type", "application/octet-stream");
  if (e.expiration() != 0) response->AddHeader("expiration", absl::StrCat(e.expiration()));
  if (!got.cache_status().empty()) response->AddHeader("CF-Cache-Status", got.cache_status());
  response->body = e.value();
}

absl::Status HandleRecords(const RestCall& call) {
  absl::Status s = Dispatch(call);
  if (!s.ok()) RenderRestError(s, call.response);
  return s;
}

}  // namespace kv::http
