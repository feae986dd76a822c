#ifndef KV_TOOLS_KVCTL_ARGS_H_
#define KV_TOOLS_KVCTL_ARGS_H_

// kvctl's command-line parser. Flags are absl flags, but argv is parsed here
// rather than by absl::ParseCommandLine so that wrangler's dashed spellings
// work (`--namespace-id` is `--namespace_id`), flags may follow the
// positional arguments, `key get --metadata` / `bulk get --metadata` are
// switches while `key put --metadata` takes JSON, and usage errors exit 2.
#include <string>
#include <vector>

namespace kv::kvctl {

// Sets the flags and returns the positional arguments. Prints `usage` and
// exits 0 on --help; exits 2 (DieUsage) on an unknown flag or a bad value.
std::vector<std::string> ParseArgs(int argc, char** argv, const char* usage);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_ARGS_H_
