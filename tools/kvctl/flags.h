#ifndef KV_TOOLS_KVCTL_FLAGS_H_
#define KV_TOOLS_KVCTL_FLAGS_H_

// kvctl's flags (defined in flags.cc, set by args.cc's parser).
#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/time/time.h"

// Connection (global).
ABSL_DECLARE_FLAG(std::string, addr);
ABSL_DECLARE_FLAG(std::string, token);
ABSL_DECLARE_FLAG(std::string, tls_ca);
ABSL_DECLARE_FLAG(std::string, account);
ABSL_DECLARE_FLAG(std::string, config);
ABSL_DECLARE_FLAG(absl::Duration, timeout);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::string, progress);
// Commands.
ABSL_DECLARE_FLAG(std::string, namespace_id);
ABSL_DECLARE_FLAG(std::string, path);
ABSL_DECLARE_FLAG(std::string, metadata);
ABSL_DECLARE_FLAG(bool, with_metadata);
ABSL_DECLARE_FLAG(int64_t, ttl);
ABSL_DECLARE_FLAG(int64_t, expiration);
ABSL_DECLARE_FLAG(std::string, prefix);
ABSL_DECLARE_FLAG(int64_t, limit);
ABSL_DECLARE_FLAG(std::string, new_name);
ABSL_DECLARE_FLAG(int, batch_size);
// wrangler's switches, accepted and ignored (kvctl always talks to the server
// and never prompts).
ABSL_DECLARE_FLAG(bool, remote);
ABSL_DECLARE_FLAG(bool, force);
ABSL_DECLARE_FLAG(bool, skip_confirmation);
// kvctl dev.
ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(int, centrals);
ABSL_DECLARE_FLAG(int, edges);
ABSL_DECLARE_FLAG(absl::Duration, window);
ABSL_DECLARE_FLAG(int, base_port);
ABSL_DECLARE_FLAG(std::string, central_bin);
ABSL_DECLARE_FLAG(std::string, edge_bin);
ABSL_DECLARE_FLAG(absl::Duration, start_timeout);

#endif  // KV_TOOLS_KVCTL_FLAGS_H_
