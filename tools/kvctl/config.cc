#include "tools/kvctl/config.h"

#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kv::kvctl {
namespace {

std::string CanonicalName(absl::string_view name) {
  std::string n = absl::AsciiStrToLower(name);
  if (n == "kv_grpc_addr" || n == "grpc_addr") return "addr";
  if (n == "kv_token") return "token";
  if (n == "kv_account") return "account";
  if (n == "kv_tls_ca") return "tls_ca";
  return n;
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseConfig(absl::string_view text) {
  std::map<std::string, std::string> out;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    absl::ConsumePrefix(&line, "export ");
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": expected `name = value`"));
    }
    absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    out[CanonicalName(name)] = std::string(value);
  }
  return out;
}

absl::StatusOr<Endpoint> ResolveEndpoint(const EndpointSources& s) {
  std::string path = s.flag_config;
  bool required = !path.empty();
  if (path.empty()) {
    path = s.getenv("KVCTL_CONFIG");
    required = !path.empty();
  }
  if (path.empty()) {
    std::string base = s.getenv("XDG_CONFIG_HOME");
    if (base.empty() && !s.getenv("HOME").empty()) base = s.getenv("HOME") + "/.config";
    if (!base.empty()) path = base + "/kvctl/config";
  }
  std::map<std::string, std::string> file;
  if (!path.empty()) {
    std::ifstream in(path);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      absl::StatusOr<std::map<std::string, std::string>> parsed = ParseConfig(text.str());
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("config file ", path, ": ", parsed.status().message()));
      }
      file = *std::move(parsed);
    } else if (required) {
      return absl::NotFoundError(absl::StrCat("cannot read config file ", path));
    }
  }
  auto pick = [&](const std::string& flag, const char* env, const char* name,
                  const char* fallback) -> std::string {
    if (!flag.empty()) return flag;
    if (std::string v = s.getenv(env); !v.empty()) return v;
    if (auto it = file.find(name); it != file.end() && !it->second.empty()) return it->second;
    return fallback;
  };
  Endpoint e;
  e.addr = pick(s.flag_addr, "KV_GRPC_ADDR", "addr", "127.0.0.1:7100");
  e.token = pick(s.flag_token, "KV_TOKEN", "token", "");
  e.account = pick(s.flag_account, "KV_ACCOUNT", "account", "");
  e.tls_ca = pick(s.flag_tls_ca, "KV_TLS_CA", "tls_ca", "");
  return e;
}

}  // namespace kv::kvctl
