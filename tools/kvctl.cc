// kvctl: a command-line client of the KV store's gRPC API, shaped like
// `wrangler kv` (see kUsage below for the commands and output formats).
//
// Flags are absl flags, but argv is parsed here rather than by
// absl::ParseCommandLine so that wrangler's dashed spellings work
// (`--namespace-id` is `--namespace_id`), flags may follow the positional
// arguments, `key get --metadata` can be a switch while `key put --metadata`
// takes JSON, and usage errors exit 2 instead of 1.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "proto/kv.grpc.pb.h"

ABSL_FLAG(std::string, addr, "", "gRPC address of a node. Default: $KV_GRPC_ADDR, else 127.0.0.1:7100.");
ABSL_FLAG(std::string, token, "", "Bearer token. Default: $KV_TOKEN.");
ABSL_FLAG(std::string, account, "", "Account id. Default: $KV_ACCOUNT, else the token's account.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(60), "Deadline of each RPC.");
ABSL_FLAG(std::string, namespace_id, "", "Namespace id (32 hex characters).");
ABSL_FLAG(std::string, path, "", "key put: read the value from this file.");
ABSL_FLAG(std::string, metadata, "", "key put: metadata JSON.");
ABSL_FLAG(bool, with_metadata, false, "key get: print the metadata instead of the value.");
ABSL_FLAG(int64_t, ttl, 0, "key put: seconds until the key expires.");
ABSL_FLAG(int64_t, expiration, 0, "key put: absolute Unix seconds when the key expires.");
ABSL_FLAG(std::string, prefix, "", "key list: only keys starting with this.");
ABSL_FLAG(int64_t, limit, 0, "key list: at most this many keys in total (0: all).");
ABSL_FLAG(std::string, new_name, "", "namespace rename: the new title.");

namespace {

constexpr int kMaxMessageBytes = 128 << 20;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

constexpr char kUsage[] = R"(kvctl: a client of the KV store's gRPC API, shaped like `wrangler kv`.

Usage: kvctl [global flags] COMMAND [args] [flags]

Commands:
  namespace create TITLE
      Creates a namespace. stdout: one line `id=<namespace id>`.
  namespace list
      stdout: a JSON array of {"id","title","supports_url_encoding"}, by title.
  namespace rename --namespace-id ID --new-name TITLE
  namespace delete --namespace-id ID
      Deletes the namespace and all of its keys.
  key put KEY [VALUE] --namespace-id ID [--path FILE] [--metadata JSON]
          [--ttl SECONDS] [--expiration UNIX_SECONDS]
      Writes VALUE, or the bytes of FILE (binary-safe); exactly one of the two.
  key get KEY --namespace-id ID [--metadata]
      stdout: the raw value bytes (nothing added). With --metadata: the
      metadata JSON instead, `null` when the key has none, and a newline.
      A missing key: `kvctl: key not found` on stderr, exit 1.
  key delete KEY --namespace-id ID
  key list --namespace-id ID [--prefix P] [--limit N]
      Follows cursors. stdout: a JSON array of {"name","expiration"?,"metadata"?}
      in key order; --limit caps the total number of keys.
  bulk put FILE --namespace-id ID
      FILE: a JSON array of {"key","value","base64"?,"metadata"?,"expiration"?,
      "expiration_ttl"?} (wrangler's format). stdout: `Success!` and the count.
  bulk delete FILE --namespace-id ID
      FILE: a JSON array of key names.

Global flags:
  --addr HOST:PORT   Default: $KV_GRPC_ADDR, else 127.0.0.1:7100.
  --token TOKEN      Sent as `authorization: Bearer TOKEN`. Default: $KV_TOKEN.
  --account ID       Default: $KV_ACCOUNT, else the token's own account.
  --timeout DURATION Deadline of each RPC, e.g. 30s. Default: 60s.

Flags may be spelled with dashes or underscores (--namespace-id, --namespace_id),
as --flag=value or --flag value, before or after the arguments; `--` ends flags.
Exit status: 0 success, 1 error (one line `kvctl: <message>` on stderr),
2 usage error.
)";

// Flags taking a value (everything but the switches).
bool IsSwitch(absl::string_view name) { return name == "with_metadata"; }

[[noreturn]] void DieUsage(absl::string_view message) {
  std::cerr << "kvctl: " << message << "\nRun `kvctl --help` for usage.\n";
  std::exit(kExitUsage);
}

[[noreturn]] void Die(absl::string_view message) {
  std::string line = absl::StrReplaceAll(message, {{"\n", " "}, {"\r", " "}});
  std::cerr << "kvctl: " << line << "\n";
  std::exit(kExitError);
}

// Parses argv: sets the flags, returns the positional arguments.
std::vector<std::string> ParseArgs(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // The command words decide what a bare `--metadata` means.
  std::vector<std::string> positional;
  bool get_command = false;
  {
    // First pass: only to find the command (flags with values skipped).
    std::vector<std::string> words;
    for (size_t i = 0; i < args.size() && words.size() < 2; ++i) {
      const std::string& a = args[i];
      if (a == "--") break;
      if (absl::StartsWith(a, "--")) {
        std::string name = absl::StrReplaceAll(a.substr(2), {{"-", "_"}});
        if (name.find('=') == std::string::npos && !IsSwitch(name) && name != "help" &&
            name != "metadata" && i + 1 < args.size()) {
          ++i;
        }
        continue;
      }
      words.push_back(a);
    }
    get_command = words.size() == 2 && words[0] == "key" && words[1] == "get";
  }

  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (flags_done || a == "-" || !absl::StartsWith(a, "-")) {
      positional.push_back(a);
      continue;
    }
    if (a == "--") {
      flags_done = true;
      continue;
    }
    if (a == "-h" || a == "--help" || a == "-help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (!absl::StartsWith(a, "--")) DieUsage(absl::StrCat("unknown flag ", a));
    std::string body = a.substr(2);
    std::optional<std::string> value;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      value = body.substr(eq + 1);
      body.resize(eq);
    }
    std::string name = absl::StrReplaceAll(body, {{"-", "_"}});
    if (name == "metadata" && get_command && !value.has_value()) name = "with_metadata";
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) DieUsage(absl::StrCat("unknown flag --", body));
    if (IsSwitch(name)) {
      if (!value.has_value()) value = "true";
    } else if (!value.has_value()) {
      if (i + 1 >= args.size()) DieUsage(absl::StrCat("missing value for --", body));
      value = args[++i];
    }
    std::string error;
    if (!flag->ParseFrom(*value, &error)) {
      DieUsage(absl::StrCat("bad value for --", body, ": ", error));
    }
  }
  return positional;
}

std::string FlagOrEnv(const std::string& flag_value, const char* env, const char* fallback) {
  if (!flag_value.empty()) return flag_value;
  const char* v = getenv(env);
  if (v != nullptr && *v != '\0') return v;
  return fallback;
}

// One RPC's context: bearer token and deadline.
class Client {
 public:
  Client()
      : addr_(FlagOrEnv(absl::GetFlag(FLAGS_addr), "KV_GRPC_ADDR", "127.0.0.1:7100")),
        token_(FlagOrEnv(absl::GetFlag(FLAGS_token), "KV_TOKEN", "")),
        account_(FlagOrEnv(absl::GetFlag(FLAGS_account), "KV_ACCOUNT", "")) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    args.SetMaxSendMessageSize(kMaxMessageBytes);
    stub_ = kv::v1::Kv::NewStub(
        grpc::CreateCustomChannel(addr_, grpc::InsecureChannelCredentials(), args));
  }

  kv::v1::Kv::Stub& stub() { return *stub_; }
  const std::string& account() const { return account_; }

  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    if (!token_.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_timeout)));
    return context;
  }

  // Exits 1 with the RPC's error.
  void Check(const grpc::Status& status) const {
    if (status.ok()) return;
    std::string message = status.error_message();
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      message = absl::StrCat(addr_, " is unavailable: ", message);
    }
    Die(absl::StrCat(message, " (", CodeName(status.error_code()), ")"));
  }

 private:
  static const char* CodeName(grpc::StatusCode code) {
    switch (code) {
      case grpc::StatusCode::OK: return "OK";
      case grpc::StatusCode::CANCELLED: return "CANCELLED";
      case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
      case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
      case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
      case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
      case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
      case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
      case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
      case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
      case grpc::StatusCode::ABORTED: return "ABORTED";
      case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
      case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
      case grpc::StatusCode::INTERNAL: return "INTERNAL";
      case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
      case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
      case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
      default: return "UNKNOWN_CODE";
    }
  }

  std::string addr_;
  std::string token_;
  std::string account_;
  std::unique_ptr<kv::v1::Kv::Stub> stub_;
};

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die(absl::StrCat("cannot read ", path));
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) Die(absl::StrCat("cannot read ", path));
  return data.str();
}

void WriteStdout(absl::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(STDOUT_FILENO, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Die(absl::StrCat("writing stdout: ", strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
}

std::string Dump(const nlohmann::ordered_json& json) {
  return json.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// Metadata text as JSON (a string when the server sent something unparsable).
nlohmann::ordered_json MetadataJson(const std::string& text) {
  auto parsed = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return text;
  return parsed;
}

std::string RequireNamespace() {
  std::string id = absl::GetFlag(FLAGS_namespace_id);
  if (id.empty()) DieUsage("--namespace-id is required");
  return id;
}

void ExpectArgs(const std::vector<std::string>& args, size_t min, size_t max,
                absl::string_view usage) {
  if (args.size() < min || args.size() > max) DieUsage(absl::StrCat("usage: kvctl ", usage));
}

int NamespaceCreate(Client& client, const std::vector<std::string>& args) {
  ExpectArgs(args, 3, 3, "namespace create TITLE");
  kv::v1::CreateNamespaceRequest request;
  request.set_account_id(client.account());
  request.set_title(args[2]);
  kv::v1::Namespace ns;
  client.Check(client.stub().CreateNamespace(client.Context().get(), request, &ns));
  WriteStdout(absl::StrCat("id=", ns.id(), "\n"));
  return 0;
}

int NamespaceList(Client& client, const std::vector<std::string>& args) {
  ExpectArgs(args, 2, 2, "namespace list");
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (uint32_t page = 1;; ++page) {
    kv::v1::ListNamespacesRequest request;
    request.set_account_id(client.account());
    request.set_page(page);
    request.set_per_page(1000);
    kv::v1::ListNamespacesResponse response;
    client.Check(client.stub().ListNamespaces(client.Context().get(), request, &response));
    for (const kv::v1::Namespace& ns : response.namespaces()) {
      out.push_back({{"id", ns.id()},
                     {"title", ns.title()},
                     {"supports_url_encoding", ns.supports_url_encoding()}});
    }
    if (response.namespaces().empty() || out.size() >= response.total_count()) break;
  }
  WriteStdout(Dump(out));
  return 0;
}

int NamespaceRename(Client& client, const std::vector<std::string>& args) {
  ExpectArgs(args, 2, 2, "namespace rename --namespace-id ID --new-name TITLE");
  kv::v1::RenameNamespaceRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  request.set_title(absl::GetFlag(FLAGS_new_name));
  if (request.title().empty()) DieUsage("--new-name is required");
  kv::v1::Namespace ns;
  client.Check(client.stub().RenameNamespace(client.Context().get(), request, &ns));
  return 0;
}

int NamespaceDelete(Client& client, const std::vector<std::string>& args) {
  ExpectArgs(args, 2, 2, "namespace delete --namespace-id ID");
  kv::v1::DeleteNamespaceRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  kv::v1::DeleteNamespaceResponse response;
  client.Check(client.stub().DeleteNamespace(client.Context().get(), request, &response));
  return 0;
}

int KeyPut(Client& client, const std::vector<std::string>& args) {
  constexpr char kUsageLine[] = "key put KEY [VALUE] --namespace-id ID [--path FILE]";
  ExpectArgs(args, 3, 4, kUsageLine);
  const std::string path = absl::GetFlag(FLAGS_path);
  if ((args.size() == 4) == !path.empty()) {
    DieUsage("give exactly one of VALUE and --path FILE");
  }
  kv::v1::PutRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  request.set_key(args[2]);
  request.set_value(path.empty() ? args[3] : ReadFileOrDie(path));
  if (std::string metadata = absl::GetFlag(FLAGS_metadata); !metadata.empty()) {
    request.set_metadata(metadata);
  }
  request.set_expiration_ttl(absl::GetFlag(FLAGS_ttl));
  request.set_expiration(absl::GetFlag(FLAGS_expiration));
  kv::v1::PutResponse response;
  client.Check(client.stub().Put(client.Context().get(), request, &response));
  return 0;
}

int KeyGet(Client& client, const std::vector<std::string>& args) {
  ExpectArgs(args, 3, 3, "key get KEY --namespace-id ID [--metadata]");
  const bool with_metadata = absl::GetFlag(FLAGS_with_metadata);
  kv::v1::GetRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  request.add_keys(args[2]);
  request.set_with_metadata(with_metadata);
  kv::v1::GetResponse response;
  client.Check(client.stub().Get(client.Context().get(), request, &response));
  if (response.entries_size() != 1) {
    Die(absl::StrCat("server returned ", response.entries_size(), " entries for one key"));
  }
  const kv::v1::Entry& entry = response.entries(0);
  if (!entry.found()) Die("key not found");
  if (with_metadata) {
    WriteStdout(entry.has_metadata() ? entry.metadata() + "\n" : "null\n");
  } else {
    WriteStdout(entry.value());
  }
  return 0;
}

int KeyDelete(Client& client, const std::vector<std::string>& args) {
  ExpectArgs(args, 3, 3, "key delete KEY --namespace-id ID");
  kv::v1::DeleteRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  request.set_key(args[2]);
  kv::v1::DeleteResponse response;
  client.Check(client.stub().Delete(client.Context().get(), request, &response));
  return 0;
}

int KeyList(Client& client, const std::vector<std::string>& args) {
  ExpectArgs(args, 2, 2, "key list --namespace-id ID [--prefix P] [--limit N]");
  const int64_t limit = absl::GetFlag(FLAGS_limit);
  if (limit < 0) DieUsage("--limit must not be negative");
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  std::string cursor;
  int64_t listed = 0;
  while (limit == 0 || listed < limit) {
    kv::v1::ListRequest request;
    request.set_account_id(client.account());
    request.set_namespace_id(RequireNamespace());
    request.set_prefix(absl::GetFlag(FLAGS_prefix));
    request.set_limit(static_cast<uint32_t>(limit == 0 ? 1000 : std::min<int64_t>(1000, limit - listed)));
    request.set_cursor(cursor);
    kv::v1::ListResponse response;
    client.Check(client.stub().List(client.Context().get(), request, &response));
    for (const kv::v1::ListedKey& key : response.keys()) {
      if (limit != 0 && listed >= limit) break;
      nlohmann::ordered_json item = {{"name", key.name()}};
      if (key.expiration() != 0) item["expiration"] = key.expiration();
      if (key.has_metadata()) item["metadata"] = MetadataJson(key.metadata());
      out.push_back(std::move(item));
      ++listed;
    }
    if (response.list_complete() || response.cursor().empty()) break;
    cursor = response.cursor();
  }
  WriteStdout(Dump(out));
  return 0;
}

nlohmann::json ReadJsonFileOrDie(const std::string& path) {
  auto json = nlohmann::json::parse(ReadFileOrDie(path), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) Die(absl::StrCat(path, " is not valid JSON"));
  return json;
}

std::string Base64DecodeOrDie(const std::string& in, const std::string& key) {
  static const std::string kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) continue;
    size_t v = kChars.find(c);
    if (v == std::string::npos) Die(absl::StrCat("invalid base64 value of key \"", key, "\""));
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

int BulkPut(Client& client, const std::vector<std::string>& args) {
  ExpectArgs(args, 3, 3, "bulk put FILE --namespace-id ID");
  nlohmann::json json = ReadJsonFileOrDie(args[2]);
  if (!json.is_array()) Die(absl::StrCat(args[2], ": expected a JSON array of objects"));
  kv::v1::BulkPutRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  for (const nlohmann::json& item : json) {
    if (!item.is_object() || !item.contains("key") || !item["key"].is_string() ||
        !item.contains("value") || !item["value"].is_string()) {
      Die(absl::StrCat(args[2], ": every entry needs string \"key\" and \"value\""));
    }
    kv::v1::BulkPutEntry* entry = request.add_entries();
    entry->set_key(item["key"].get<std::string>());
    std::string value = item["value"].get<std::string>();
    if (item.value("base64", false)) value = Base64DecodeOrDie(value, entry->key());
    entry->set_value(std::move(value));
    if (item.contains("metadata")) entry->set_metadata(item["metadata"].dump());
    if (item.contains("expiration")) entry->set_expiration(item["expiration"].get<int64_t>());
    if (item.contains("expiration_ttl")) {
      entry->set_expiration_ttl(item["expiration_ttl"].get<int64_t>());
    }
  }
  kv::v1::BulkPutResponse response;
  client.Check(client.stub().BulkPut(client.Context().get(), request, &response));
  WriteStdout(absl::StrCat("Success! ", response.successful_key_count(), " keys written\n"));
  return 0;
}

int BulkDelete(Client& client, const std::vector<std::string>& args) {
  ExpectArgs(args, 3, 3, "bulk delete FILE --namespace-id ID");
  nlohmann::json json = ReadJsonFileOrDie(args[2]);
  if (!json.is_array()) Die(absl::StrCat(args[2], ": expected a JSON array of key names"));
  kv::v1::BulkDeleteRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  for (const nlohmann::json& item : json) {
    // wrangler accepts names or {"name": ...} objects.
    if (item.is_string()) {
      request.add_keys(item.get<std::string>());
    } else if (item.is_object() && item.contains("name") && item["name"].is_string()) {
      request.add_keys(item["name"].get<std::string>());
    } else {
      Die(absl::StrCat(args[2], ": expected key names"));
    }
  }
  kv::v1::BulkDeleteResponse response;
  client.Check(client.stub().BulkDelete(client.Context().get(), request, &response));
  WriteStdout(absl::StrCat("Success! ", response.successful_key_count(), " keys deleted\n"));
  return 0;
}

int Run(const std::vector<std::string>& args) {
  if (args.empty()) DieUsage("missing command");
  if (args[0] == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (args.size() < 2) DieUsage(absl::StrCat("missing subcommand of \"", args[0], "\""));
  const std::string command = absl::StrCat(args[0], " ", args[1]);
  using Handler = int (*)(Client&, const std::vector<std::string>&);
  static const std::vector<std::pair<std::string, Handler>> kCommands = {
      {"namespace create", NamespaceCreate}, {"namespace list", NamespaceList},
      {"namespace rename", NamespaceRename}, {"namespace delete", NamespaceDelete},
      {"key put", KeyPut},                   {"key get", KeyGet},
      {"key delete", KeyDelete},             {"key list", KeyList},
      {"bulk put", BulkPut},                 {"bulk delete", BulkDelete},
  };
  for (const auto& [name, handler] : kCommands) {
    if (name == command) {
      Client client;
      return handler(client, args);
    }
  }
  if (absl::StrContains(args[0], ':')) {
    DieUsage(absl::StrCat("unknown command \"", command,
                          "\" (wrangler 1 colon forms are not supported; use `", 
                          absl::StrReplaceAll(args[0], {{":", " "}}), "`)"));
  }
  DieUsage(absl::StrCat("unknown command \"", command, "\""));
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args = ParseArgs(argc, argv);
  return Run(args);
}
