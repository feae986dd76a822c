#ifndef KV_TOOLS_KVCTL_EXIT_CODES_H_
#define KV_TOOLS_KVCTL_EXIT_CODES_H_

// kvctl's exit statuses and its one way out on an error: one line
// `kvctl: <message>` on stderr, nothing more, then exit with a code that
// says what kind of failure it was (scripts branch on it).
#include <grpcpp/grpcpp.h>

#include "absl/strings/string_view.h"

namespace kv::kvctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,        // the server refused the request (bad value, limit, ...)
  kExitUsage = 2,        // bad command line
  kExitNotFound = 3,     // key or namespace not found
  kExitAuth = 4,         // UNAUTHENTICATED or PERMISSION_DENIED
  kExitUnavailable = 5,  // no server, unreachable, deadline exceeded
  kExitBadInput = 6,     // an input file is unreadable or malformed
  kExitInterrupted = 130,
};

// Prints `kvctl: <message>` (newlines flattened to spaces) and exits `code`.
[[noreturn]] void Die(ExitCode code, absl::string_view message);
// A usage error: the message, a hint to --help, exit 2.
[[noreturn]] void DieUsage(absl::string_view message);

// The exit code for a failed RPC.
ExitCode ExitCodeFor(grpc::StatusCode code);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_EXIT_CODES_H_
