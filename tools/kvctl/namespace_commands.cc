// kvctl namespace create|list|rename|delete.
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "tools/kvctl/commands.h"
#include "tools/kvctl/exit_codes.h"
#include "tools/kvctl/flags.h"
#include "tools/kvctl/output.h"

namespace kv::kvctl {
namespace {

nlohmann::ordered_json NamespaceJson(const kv::v1::Namespace& ns) {
  return {{"id", ns.id()},
          {"title", ns.title()},
          {"supports_url_encoding", ns.supports_url_encoding()}};
}

}  // namespace

int NamespaceCreate(Client& client, const Args& args) {
  ExpectArgs(args, 3, 3, "namespace create TITLE");
  kv::v1::CreateNamespaceRequest request;
  request.set_account_id(client.account());
  request.set_title(args[2]);
  kv::v1::Namespace ns;
  client.Check(client.stub().CreateNamespace(client.Context().get(), request, &ns));
  WriteStdout(JsonOutput() ? Dump(NamespaceJson(ns)) : absl::StrCat("id=", ns.id(), "\n"));
  return 0;
}

int NamespaceList(Client& client, const Args& args) {
  ExpectArgs(args, 2, 2, "namespace list");
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (uint32_t page = 1;; ++page) {
    kv::v1::ListNamespacesRequest request;
    request.set_account_id(client.account());
    request.set_page(page);
    request.set_per_page(1000);
    kv::v1::ListNamespacesResponse response;
    client.Check(client.stub().ListNamespaces(client.Context().get(), request, &response));
    for (const kv::v1::Namespace& ns : response.namespaces()) out.push_back(NamespaceJson(ns));
    if (response.namespaces().empty() || out.size() >= response.total_count()) break;
  }
  WriteStdout(Dump(out));
  return 0;
}

int NamespaceRename(Client& client, const Args& args) {
  ExpectArgs(args, 2, 2, "namespace rename --namespace-id ID --new-name TITLE");
  kv::v1::RenameNamespaceRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  request.set_title(absl::GetFlag(FLAGS_new_name));
  if (request.title().empty()) DieUsage("--new-name is required");
  kv::v1::Namespace ns;
  client.Check(client.stub().RenameNamespace(client.Context().get(), request, &ns));
  if (JsonOutput()) WriteStdout(Dump(NamespaceJson(ns)));
  return 0;
}

int NamespaceDelete(Client& client, const Args& args) {
  ExpectArgs(args, 2, 2, "namespace delete --namespace-id ID");
  kv::v1::DeleteNamespaceRequest request;
  request.set_account_id(client.account());
  request.set_namespace_id(RequireNamespace());
  kv::v1::DeleteNamespaceResponse response;
  client.Check(client.stub().DeleteNamespace(client.Context().get(), request, &response));
  if (JsonOutput()) WriteStdout(Dump({{"success", true}, {"id", request.namespace_id()}}));
  return 0;
}

}  // namespace kv::kvctl
