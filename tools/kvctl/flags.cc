// kvctl's flags. kUsage in main.cc documents them for users.
#include "tools/kvctl/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, addr, "",
          "gRPC address of a node. Default: $KV_GRPC_ADDR, the config file, 127.0.0.1:7100.");
ABSL_FLAG(std::string, token, "", "Bearer token. Default: $KV_TOKEN, the config file.");
ABSL_FLAG(std::string, tls_ca, "",
          "CA file (PEM) of a node serving TLS. Default: $KV_TLS_CA, the config file, none "
          "(plain text).");
ABSL_FLAG(std::string, account, "",
          "Account id. Default: $KV_ACCOUNT, the config file, the token's account.");
ABSL_FLAG(std::string, config, "",
          "Config file. Default: $KVCTL_CONFIG, else $XDG_CONFIG_HOME/kvctl/config "
          "(~/.config/kvctl/config) when it exists.");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(60), "Deadline of each RPC.");
ABSL_FLAG(std::string, output, "text", "text | json");
ABSL_FLAG(std::string, progress, "auto",
          "bulk: auto (a bar when stderr is a terminal), always (plain lines), never.");
ABSL_FLAG(std::string, namespace_id, "", "Namespace id (32 hex characters).");
ABSL_FLAG(std::string, path, "", "key put: read the value from this file.");
ABSL_FLAG(std::string, metadata, "", "key put: metadata JSON.");
ABSL_FLAG(bool, with_metadata, false, "key get / bulk get: metadata too.");
ABSL_FLAG(int64_t, ttl, 0, "key put: seconds until the key expires.");
ABSL_FLAG(int64_t, expiration, 0, "key put: absolute Unix seconds when the key expires.");
ABSL_FLAG(std::string, prefix, "", "key list: only keys starting with this.");
ABSL_FLAG(int64_t, limit, 0, "key list: at most this many keys in total (0: all).");
ABSL_FLAG(std::string, new_name, "", "namespace rename: the new title.");
ABSL_FLAG(int, batch_size, 1000, "bulk put/delete: entries per request (1..10000).");
ABSL_FLAG(bool, remote, false, "Ignored (wrangler's; kvctl always uses the server).");
ABSL_FLAG(bool, force, false, "Ignored (wrangler's; kvctl never prompts).");
ABSL_FLAG(bool, skip_confirmation, false, "Ignored (wrangler's; kvctl never prompts).");
ABSL_FLAG(std::string, data_dir, ".dev-cluster", "dev: the cluster's data and files.");
ABSL_FLAG(int, centrals, 3, "dev: number of kv-central processes.");
ABSL_FLAG(int, edges, 2, "dev: number of kv-edge processes.");
ABSL_FLAG(absl::Duration, window, absl::Seconds(60), "dev: the edges' --window.");
ABSL_FLAG(int, base_port, 0, "dev: fixed ports from this one (see --help); 0: free ports.");
ABSL_FLAG(std::string, central_bin, "", "dev: the kv-central binary.");
ABSL_FLAG(std::string, edge_bin, "", "dev: the kv-edge binary.");
ABSL_FLAG(absl::Duration, start_timeout, absl::Seconds(60),
          "dev: how long every node may take to become healthy.");
