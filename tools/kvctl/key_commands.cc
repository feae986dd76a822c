// kvctl key put|get|delete|list.
#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "tools/kvctl/bulk_file.h"
#include "tools/kvctl/commands.h"
#include "tools/kvctl/exit_codes.h"
#include "tools/kvctl/flags.h"
#include "tools/kvctl/output.h"

namespace kv::kvctl {

int KeyPut(Client& client, const Args& args) {
  ExpectArgs(args, 3, 4, "key put KEY [VALUE] --namespace-id ID [--path FILE]");
  const std::string path = absl::GetFlag(FLAGS_path);
  if ((args.size() == 4) == !path.empty()) DieUsage("give exactly one of VALUE and --path FILE");
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
  if (JsonOutput()) {
    nlohmann::ordered_json out = {{"success", true}, {"key", args[2]}};
    if (response.expiration() != 0) out["expiration"] = response.expiration();
    WriteStdout(Dump(out));
  }
  return 0;
}

int KeyGet(Client& client, const Args& args) {
  ExpectArgs(args, 3, 3, "key get KEY --namespace-id ID [--metadata]");
  const bool with_metadata = absl::GetFlag(FLAGS_with_metadata);
  const bool json = JsonOutput();
  kv::v1::GetRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  request.add_keys(args[2]);
  request.set_with_metadata(with_metadata || json);
  kv::v1::GetResponse response;
  client.Check(client.stub().Get(client.Context().get(), request, &response));
  if (response.entries_size() != 1) {
    Die(kExitError,
        absl::StrCat("server returned ", response.entries_size(), " entries for one key"));
  }
  const kv::v1::Entry& entry = response.entries(0);
  if (!entry.found()) Die(kExitNotFound, "key not found");
  if (json) {
    nlohmann::ordered_json out = {{"key", args[2]}};
    if (IsUtf8(entry.value())) {
      out["value"] = entry.value();
    } else {
      out["value"] = Base64Encode(entry.value());
      out["base64"] = true;
    }
    out["metadata"] = entry.has_metadata() ? MetadataJson(entry.metadata())
                                           : nlohmann::ordered_json(nullptr);
    if (entry.expiration() != 0) out["expiration"] = entry.expiration();
    WriteStdout(Dump(out));
  } else if (with_metadata) {
    WriteStdout(entry.has_metadata() ? entry.metadata() + "\n" : "null\n");
  } else {
    WriteStdout(entry.value());
  }
  return 0;
}

int KeyDelete(Client& client, const Args& args) {
  ExpectArgs(args, 3, 3, "key delete KEY --namespace-id ID");
  kv::v1::DeleteRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  request.set_key(args[2]);
  kv::v1::DeleteResponse response;
  client.Check(client.stub().Delete(client.Context().get(), request, &response));
  if (JsonOutput()) WriteStdout(Dump({{"success", true}, {"key", args[2]}}));
  return 0;
}

int KeyList(Client& client, const Args& args) {
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
    request.set_limit(
        static_cast<uint32_t>(limit == 0 ? 1000 : std::min<int64_t>(1000, limit - listed)));
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

}  // namespace kv::kvctl
