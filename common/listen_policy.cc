#include "common/listen_policy.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kv {

bool IsLoopbackAddress(absl::string_view addr) {
  return absl::StartsWith(addr, "127.") || absl::StartsWith(addr, "localhost:") ||
         absl::StartsWith(addr, "[::1]:");
}

absl::Status CheckListenPolicy(absl::string_view addr, bool dev, bool insecure,
                               const std::string& tokens_file, bool tls) {
  const bool loopback = IsLoopbackAddress(addr);
  if (dev && !loopback) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dev mode runs without auth and serves loopback addresses only; ", addr,
        " is not one"));
  }
  if (!loopback && !insecure && !tls) {
    return absl::InvalidArgumentError(absl::StrCat(
        addr,
        " is not a loopback address and TLS is not configured for it; give --tls_cert, "
        "--tls_key and --tls_ca, or pass --insecure to serve it in plain text anyway"));
  }
  if (!dev && tokens_file.empty()) {
    return absl::InvalidArgumentError("--tokens_file is required (or --dev for open mode)");
  }
  return absl::OkStatus();
}

}  // namespace kv
