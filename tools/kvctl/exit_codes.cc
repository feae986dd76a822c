#include "tools/kvctl/exit_codes.h"

#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/strings/str_replace.h"

namespace kv::kvctl {

void Die(ExitCode code, absl::string_view message) {
  std::string line = absl::StrReplaceAll(message, {{"\n", " "}, {"\r", " "}});
  std::cerr << "kvctl: " << line << std::endl;
  std::exit(code);
}

void DieUsage(absl::string_view message) {
  std::string line = absl::StrReplaceAll(message, {{"\n", " "}, {"\r", " "}});
  std::cerr << "kvctl: " << line << " (run `kvctl --help` for usage)" << std::endl;
  std::exit(kExitUsage);
}

ExitCode ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitAuth;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return kExitUnavailable;
    default:
      return kExitError;
  }
}

}  // namespace kv::kvctl
