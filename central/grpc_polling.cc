#include "central/grpc_polling.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

namespace kv::central {

absl::Status SetGrpcPollStrategy(absl::string_view strategy) {
  if (strategy.empty()) return absl::OkStatus();
  if (strategy != "poll" && strategy != "epoll1") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--grpc_poll_strategy is \"", strategy, "\"; expected poll, epoll1 or empty"));
  }
  // overwrite = 0: GRPC_POLL_STRATEGY set by the operator is kept.
  if (setenv("GRPC_POLL_STRATEGY", std::string(strategy).c_str(), /*overwrite=*/0) != 0)
    return absl::InternalError("setenv(GRPC_POLL_STRATEGY) failed");
  return absl::OkStatus();
}

}  // namespace kv::central
