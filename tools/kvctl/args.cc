#include "tools/kvctl/args.h"

#include <cstdlib>
#include <iostream>
#include <optional>

#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tools/kvctl/exit_codes.h"

namespace kv::kvctl {
namespace {

// Flags taking no value.
bool IsSwitch(absl::string_view name) {
  return name == "with_metadata" || name == "remote" || name == "force" ||
         name == "skip_confirmation";
}

// The first two positional words (the command), skipping flags and values.
std::vector<std::string> CommandWords(const std::vector<std::string>& args) {
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
  return words;
}

}  // namespace

std::vector<std::string> ParseArgs(int argc, char** argv, const char* usage) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::vector<std::string> words = CommandWords(args);
  // Reads: `--metadata` is a switch. Writes: it takes JSON.
  const bool metadata_is_switch =
      words.size() == 2 && words[1] == "get" && (words[0] == "key" || words[0] == "bulk");

  std::vector<std::string> positional;
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
      std::cout << usage;
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
    if (name == "metadata" && metadata_is_switch && !value.has_value()) name = "with_metadata";
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

}  // namespace kv::kvctl
