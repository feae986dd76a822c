#include "tests/harness/fault_proxy.h"

#include <stdlib.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "common/loopback_http.h"
#include "tests/harness/node_launch.h"

namespace kv::testing {
namespace {

using nlohmann::json;

const char* DirectionName(ProxyDirection d) {
  switch (d) {
    case ProxyDirection::kNone: return "none";
    case ProxyDirection::kUp: return "up";
    case ProxyDirection::kDown: return "down";
    case ProxyDirection::kBoth: return "both";
  }
  return "none";
}

absl::StatusCode CodeOfHttpStatus(int status) {
  switch (status) {
    case 400: return absl::StatusCode::kInvalidArgument;
    case 404: return absl::StatusCode::kNotFound;
    case 405: return absl::StatusCode::kUnimplemented;
    case 409: return absl::StatusCode::kAlreadyExists;
    case 503: return absl::StatusCode::kUnavailable;
    default: return absl::StatusCode::kInternal;
  }
}

std::string LinkPath(absl::string_view name, absl::string_view action = "") {
  return action.empty() ? absl::StrCat("/links/", name)
                        : absl::StrCat("/links/", name, "/", action);
}

}  // namespace

ProxyFaults ProxyFaults::Latency(absl::Duration latency, absl::Duration jitter) {
  ProxyFaults f;
  f.up_latency = f.down_latency = latency;
  f.up_jitter = f.down_jitter = jitter;
  return f;
}

ProxyFaults ProxyFaults::Blackhole(ProxyDirection direction) {
  ProxyFaults f;
  f.blackhole = direction;
  return f;
}

ProxyFaults ProxyFaults::Refuse() {
  ProxyFaults f;
  f.refuse = true;
  return f;
}

std::string ProxyFaults::ToJson() const {
  return json{{"up",
               {{"latency_ms", absl::ToDoubleMilliseconds(up_latency)},
                {"jitter_ms", absl::ToDoubleMilliseconds(up_jitter)}}},
              {"down",
               {{"latency_ms", absl::ToDoubleMilliseconds(down_latency)},
                {"jitter_ms", absl::ToDoubleMilliseconds(down_jitter)}}},
              {"blackhole", DirectionName(blackhole)},
              {"drop", DirectionName(drop)},
              {"refuse", refuse}}
      .dump();
}

absl::StatusOr<std::unique_ptr<FaultProxy>> FaultProxy::Start(const std::string& work_dir,
                                                              FaultProxyOptions options) {
  if (options.binary.empty()) {
    const char* bin = getenv("KV_FAULTPROXY_BIN");
    if (bin != nullptr && *bin != '\0') {
      options.binary = bin;
    } else {
#ifdef KV_FAULTPROXY_BIN_DEFAULT
      options.binary = KV_FAULTPROXY_BIN_DEFAULT;
#else
      return absl::FailedPreconditionError("KV_FAULTPROXY_BIN is not set");
#endif
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(work_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", work_dir, ": ", ec.message()));
  const std::string ready_path = work_dir + "/faultproxy.ready";
  ProcessOptions p;
  p.argv = {options.binary, absl::StrCat("--ready_file=", ready_path)};
  p.stdout_path = work_dir + "/faultproxy.log";
  absl::StatusOr<LaunchedNode> launched =
      LaunchNode("kv-faultproxy", std::move(p), ready_path, 1, options.start_timeout);
  if (!launched.ok()) return launched.status();
  const int control_port = ReadyPort(launched->ready_info, "control_port");
  if (control_port == 0) {
    return absl::InternalError(absl::StrCat("kv-faultproxy's ready file has no control_port; log:\n",
                                            launched->process->LogTail(20)));
  }
  return std::unique_ptr<FaultProxy>(
      new FaultProxy(std::move(options), std::move(launched->process), control_port));
}

FaultProxy::~FaultProxy() {
  if (process_ != nullptr) (void)process_->Kill();
}

std::string FaultProxy::LogTail(int lines) const { return process_->LogTail(lines); }

absl::StatusOr<std::string> FaultProxy::Call(absl::string_view method, const std::string& path,
                                             const std::string& body) {
  absl::StatusOr<HttpResult> result =
      HttpRequest(control_port_, method, path, body, options_.request_timeout);
  if (!result.ok()) {
    if (!process_->IsRunning()) {
      return absl::UnavailableError(absl::StrCat("kv-faultproxy has exited (",
                                                 process_->exit_status()->ToString(),
                                                 "); log tail:\n", process_->LogTail(30)));
    }
    return result.status();
  }
  if (result->status / 100 == 2) return std::move(result->body);
  json error = json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  std::string message = result->body;
  if (!error.is_discarded() && error.is_object() && error.contains("error") &&
      error["error"].is_string()) {
    message = error["error"].get<std::string>();
  }
  return absl::Status(CodeOfHttpStatus(result->status),
                      absl::StrCat("kv-faultproxy ", method, " ", path, ": HTTP ",
                                   result->status, ": ", message));
}

absl::StatusOr<int> FaultProxy::AddLink(absl::string_view name, absl::string_view target) {
  json body{{"name", std::string(name)}};
  if (!target.empty()) body["target"] = std::string(target);
  absl::StatusOr<std::string> response = Call("POST", "/links", body.dump());
  if (!response.ok()) return response.status();
  json link = json::parse(*response, nullptr, false);
  if (link.is_discarded() || !link.contains("listen_port") ||
      !link["listen_port"].is_number_integer()) {
    return absl::InternalError(absl::StrCat("kv-faultproxy: no listen_port in ", *response));
  }
  const int port = link["listen_port"].get<int>();
  ports_[std::string(name)] = port;
  return port;
}

int FaultProxy::port(absl::string_view name) const {
  auto it = ports_.find(name);
  return it == ports_.end() ? 0 : it->second;
}

std::string FaultProxy::addr(absl::string_view name) const {
  return absl::StrCat("127.0.0.1:", port(name));
}

absl::Status FaultProxy::SetTarget(absl::string_view name, absl::string_view target) {
  return Call("POST", LinkPath(name, "target"), json{{"target", std::string(target)}}.dump())
      .status();
}

absl::Status FaultProxy::SetFaults(absl::string_view name, const ProxyFaults& faults) {
  return Call("POST", LinkPath(name, "fault"), faults.ToJson()).status();
}

absl::Status FaultProxy::PatchFaults(absl::string_view name, absl::string_view json_patch) {
  return Call("POST", LinkPath(name, "fault"), std::string(json_patch)).status();
}

absl::Status FaultProxy::Clear(absl::string_view name) {
  return Call("POST", LinkPath(name, "clear"), "").status();
}

absl::Status FaultProxy::ClearAll() { return Call("POST", "/clear", "").status(); }

absl::StatusOr<int> FaultProxy::Reset(absl::string_view name) {
  absl::StatusOr<std::string> response = Call("POST", LinkPath(name, "reset"), "");
  if (!response.ok()) return response.status();
  json body = json::parse(*response, nullptr, false);
  if (body.is_discarded() || !body.contains("reset") || !body["reset"].is_number_integer()) {
    return absl::InternalError(absl::StrCat("kv-faultproxy: no reset count in ", *response));
  }
  return body["reset"].get<int>();
}

absl::StatusOr<ProxyLinkCounters> FaultProxy::Counters(absl::string_view name) {
  absl::StatusOr<std::string> response = Call("GET", LinkPath(name), "");
  if (!response.ok()) return response.status();
  json body = json::parse(*response, nullptr, false);
  if (body.is_discarded() || !body.contains("counters") || !body["counters"].is_object()) {
    return absl::InternalError(absl::StrCat("kv-faultproxy: no counters in ", *response));
  }
  const json& c = body["counters"];
  auto get = [&](const char* field) -> uint64_t {
    return c.contains(field) && c[field].is_number() ? c[field].get<uint64_t>() : 0;
  };
  ProxyLinkCounters out;
  out.bytes_up = get("bytes_up");
  out.bytes_down = get("bytes_down");
  out.dropped_bytes_up = get("dropped_bytes_up");
  out.dropped_bytes_down = get("dropped_bytes_down");
  out.connections_accepted = get("connections_accepted");
  out.connections_active = get("connections_active");
  out.connections_reset = get("connections_reset");
  out.rejected_no_target = get("rejected_no_target");
  out.upstream_connect_failures = get("upstream_connect_failures");
  return out;
}

absl::Status FaultProxy::RemoveLink(absl::string_view name) {
  absl::Status s = Call("DELETE", LinkPath(name), "").status();
  if (s.ok()) ports_.erase(name);
  return s;
}

absl::Status FaultProxy::Stop() { return StopNode("kv-faultproxy", *process_, absl::Seconds(10)); }

}  // namespace kv::testing
