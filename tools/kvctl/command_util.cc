#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "tools/kvctl/commands.h"
#include "tools/kvctl/exit_codes.h"
#include "tools/kvctl/flags.h"

namespace kv::kvctl {

std::string RequireNamespace() {
  std::string id = absl::GetFlag(FLAGS_namespace_id);
  if (id.empty()) DieUsage("--namespace-id is required");
  return id;
}

void ExpectArgs(const Args& args, size_t min, size_t max, const char* usage) {
  if (args.size() < min || args.size() > max) DieUsage(absl::StrCat("usage: kvctl ", usage));
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Die(kExitBadInput, absl::StrCat("cannot read ", path, ": ", strerror(errno)));
  std::ostringstream data;
  data << in.rdbuf();
  if (in.bad()) Die(kExitBadInput, absl::StrCat("cannot read ", path));
  return data.str();
}

}  // namespace kv::kvctl
