#ifndef KV_TOOLS_FAULTPROXY_LINK_SET_H_
#define KV_TOOLS_FAULTPROXY_LINK_SET_H_

// The named links of one kv-faultproxy process.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "tools/faultproxy/link.h"

namespace kv::faultproxy {

// Link names: 1..64 of [A-Za-z0-9_.-].
absl::Status ValidateLinkName(absl::string_view name);

// Links by name. Thread-safe; a link's own operations run outside the set's
// mutex (links are never destroyed while in use: removal hands ownership to
// the remover, which destroys the link after dropping the mutex, and every
// other operation holds a shared_ptr).
class LinkSet {
 public:
  explicit LinkSet(size_t max_queued_bytes) : max_queued_bytes_(max_queued_bytes) {}

  // INVALID_ARGUMENT for a bad name, ALREADY_EXISTS for a taken one,
  // UNAVAILABLE when the listen address cannot be bound.
  absl::StatusOr<std::shared_ptr<Link>> Add(const std::string& name, const HostPort& listen,
                                            std::optional<HostPort> target)
      ABSL_LOCKS_EXCLUDED(mu_);
  // NOT_FOUND when there is no such link.
  absl::StatusOr<std::shared_ptr<Link>> Get(absl::string_view name) const ABSL_LOCKS_EXCLUDED(mu_);
  // Stops the link and resets its connections. NOT_FOUND when absent.
  absl::Status Remove(absl::string_view name) ABSL_LOCKS_EXCLUDED(mu_);
  // Clears the faults of every link. The first error, if any.
  absl::Status ClearAll() ABSL_LOCKS_EXCLUDED(mu_);
  // {"links": [...]}, by name.
  nlohmann::json ToJson() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const size_t max_queued_bytes_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<Link>, std::less<>> links_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::faultproxy

#endif  // KV_TOOLS_FAULTPROXY_LINK_SET_H_
