#ifndef KV_COMMON_LISTEN_POLICY_H_
#define KV_COMMON_LISTEN_POLICY_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kv {

// True for 127.x.x.x, localhost and [::1] listen addresses.
bool IsLoopbackAddress(absl::string_view addr);

// DESIGN §6: dev mode (no auth) serves loopback only; a non-loopback
// address needs `tls` (the port serves TLS) or --insecure; without dev mode
// a tokens file is required. INVALID_ARGUMENT naming the flag otherwise.
absl::Status CheckListenPolicy(absl::string_view addr, bool dev, bool insecure,
                               const std::string& tokens_file, bool tls);

}  // namespace kv

#endif  // KV_COMMON_LISTEN_POLICY_H_
