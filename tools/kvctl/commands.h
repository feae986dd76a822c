#ifndef KV_TOOLS_KVCTL_COMMANDS_H_
#define KV_TOOLS_KVCTL_COMMANDS_H_

// kvctl's commands. Each takes the positional arguments (args[0..1] are the
// command words), reads its flags, returns 0 or exits through Die().
#include <string>
#include <vector>

#include "tools/kvctl/client.h"

namespace kv::kvctl {

using Args = std::vector<std::string>;

int NamespaceCreate(Client& client, const Args& args);
int NamespaceList(Client& client, const Args& args);
int NamespaceRename(Client& client, const Args& args);
int NamespaceDelete(Client& client, const Args& args);
int KeyPut(Client& client, const Args& args);
int KeyGet(Client& client, const Args& args);
int KeyDelete(Client& client, const Args& args);
int KeyList(Client& client, const Args& args);
int BulkPut(Client& client, const Args& args);
int BulkGet(Client& client, const Args& args);
int BulkDelete(Client& client, const Args& args);

// `kvctl dev` (dev_command.cc) and `kvctl health` (health_command.cc): no
// Kv client.
int Dev(const Args& args);
int Health(const Args& args);

// Helpers shared by the commands.
// --namespace-id, or a usage error.
std::string RequireNamespace();
// A usage error unless min <= args.size() <= max.
void ExpectArgs(const Args& args, size_t min, size_t max, const char* usage);
// The whole file, binary; exits 6 naming the file when it cannot be read.
std::string ReadFileOrDie(const std::string& path);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_COMMANDS_H_
