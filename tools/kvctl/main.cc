// kvctl: a command-line client of the KV store's gRPC API, shaped like
// `wrangler kv`, and `kvctl dev`, a local cluster in one command. kUsage
// below documents every command, output and exit status.
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/deadlock_detection.h"
#include "tools/kvctl/args.h"
#include "tools/kvctl/client.h"
#include "tools/kvctl/commands.h"
#include "tools/kvctl/exit_codes.h"
#include "tools/kvctl/flags.h"
#include "tools/kvctl/output.h"
#include "tools/kvctl/progress_bar.h"

namespace kv::kvctl {
namespace {

constexpr char kUsage[] = R"(kvctl: a client of the KV store's gRPC API, shaped like `wrangler kv`.

Usage: kvctl [global flags] COMMAND [args] [flags]

Commands:
  dev [--data_dir DIR] [--centrals N] [--edges M] [--window 60s] [--base_port P]
      Runs a local cluster: N kv-central (default 3) and M kv-edge (default 2)
      processes in dev mode (open auth, 127.0.0.1), data under DIR (default
      ./.dev-cluster), free ports unless --base_port P (centrals' gRPC P+i,
      REST P+10+i, metrics P+20+i; edges' gRPC P+200+j, REST P+210+j, workerd
      P+220+j, metrics P+230+j). Waits until every node is healthy, prints the
      endpoints and writes them to DIR/cluster.env (`source` it, or give it
      to kvctl as --config). Ctrl-C or SIGTERM stops every node; running it
      again on the same DIR keeps the data. Binaries: --central_bin,
      --edge_bin, else next to kvctl in a build tree, else $PATH.
  health [SERVICE]
      Asks the node at --addr for its standard gRPC health (grpc.health.v1
      Check; SERVICE default "": the server as a whole), over TLS with
      --tls_ca. stdout: `SERVING`, exit 0; exit 5 when it is not serving or
      cannot be reached. For container and Kubernetes probes.
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
  key delete KEY --namespace-id ID
  key list --namespace-id ID [--prefix P] [--limit N]
      Follows cursors. stdout: a JSON array of {"name","expiration"?,"metadata"?}
      in key order; --limit caps the total number of keys.
  bulk put FILE --namespace-id ID [--batch_size 1000]
      FILE: a JSON array of {"key","value","base64"?,"metadata"?,"expiration"?,
      "expiration_ttl"?} (wrangler's format), sent --batch_size entries per
      request. stdout: `Success! N keys written`.
  bulk get FILE --namespace-id ID [--metadata]
      FILE: a JSON array of key names. stdout: a JSON object key -> value
      (null when missing; {"value","base64":true} for non-UTF-8 bytes); with
      --metadata key -> {"value","metadata"}.
  bulk delete FILE --namespace-id ID [--batch_size 1000]
      FILE: a JSON array of key names. stdout: `Success! N keys deleted`.
  Bulk commands show a progress bar on stderr when it is a terminal
  (--progress auto|always|never).

Global flags:
  --addr HOST:PORT   Default: $KV_GRPC_ADDR, the config file, 127.0.0.1:7100.
  --token TOKEN      Sent as `authorization: Bearer TOKEN`. Default: $KV_TOKEN,
                     the config file.
  --account ID       Default: $KV_ACCOUNT, the config file, the token's account.
  --tls_ca FILE      The node serves TLS: verify it against this CA (PEM).
                     Default: $KV_TLS_CA, the config file, none (plain text).
  --config FILE      `name = value` lines (addr, token, account, or KV_GRPC_ADDR,
                     KV_TOKEN, KV_ACCOUNT: a kvctl dev cluster.env works).
                     Default: $KVCTL_CONFIG, else ~/.config/kvctl/config if any.
  --output text|json Machine-readable results: one JSON document on stdout
                     (create, rename, delete, put: {"success":true,...}; key get:
                     {"key","value","metadata","expiration"?}).
  --timeout DURATION Deadline of each RPC, e.g. 30s. Default: 60s.

Flags may be spelled with dashes or underscores (--namespace-id, --namespace_id),
as --flag=value or --flag value, before or after the arguments; `--` ends flags.
wrangler's --remote, --force and --skip-confirmation are accepted and ignored.

Exit status: 0 success; on failure one line `kvctl: <message>` on stderr and
  1 the server refused the request     2 usage error
  3 key or namespace not found         4 unauthenticated or permission denied
  5 server unavailable or timed out    6 input file unreadable or malformed
)";

int Run(const std::vector<std::string>& args) {
  if (args.empty()) DieUsage("missing command");
  if (args[0] == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (args[0] == "dev") return Dev(args);
  if (args[0] == "health") return Health(args);
  if (args.size() < 2) DieUsage(absl::StrCat("missing subcommand of \"", args[0], "\""));
  const std::string command = absl::StrCat(args[0], " ", args[1]);
  using Handler = int (*)(Client&, const Args&);
  static const std::vector<std::pair<std::string, Handler>> kCommands = {
      {"namespace create", NamespaceCreate}, {"namespace list", NamespaceList},
      {"namespace rename", NamespaceRename}, {"namespace delete", NamespaceDelete},
      {"key put", KeyPut},                   {"key get", KeyGet},
      {"key delete", KeyDelete},             {"key list", KeyList},
      {"bulk put", BulkPut},                 {"bulk get", BulkGet},
      {"bulk delete", BulkDelete},
  };
  for (const auto& [name, handler] : kCommands) {
    if (name == command) {
      // Bad --output / --progress values are usage errors for every command.
      (void)JsonOutput();
      (void)ProgressBar::ModeFromFlag();
      Client client(EndpointFromFlagsOrDie(), absl::GetFlag(FLAGS_timeout));
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
}  // namespace kv::kvctl

int main(int argc, char** argv) {
  kv::ConfigureMutexDeadlockDetection();  // before any thread starts
  std::vector<std::string> args = kv::kvctl::ParseArgs(argc, argv, kv::kvctl::kUsage);
  return kv::kvctl::Run(args);
}
