#ifndef KV_EDGE_NAMESPACE_DIRECTORY_H_
#define KV_EDGE_NAMESPACE_DIRECTORY_H_

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "edge/central_pool.h"

namespace kv::edge {

// Which account each namespace belongs to, so cache hits are authorized
// without asking a central. Learnt from a central on first use; forgotten
// when the stream announces the namespace's deletion. Only existing
// namespaces are remembered.
// Thread-safe; Check may block on a central.
class NamespaceDirectory {
 public:
  explicit NamespaceDirectory(CentralPool& pool) : pool_(pool) {}

  // OK when `namespace_id` belongs to `account_id`. NOT_FOUND (namespace
  // not found) otherwise; UNAVAILABLE when no central answers.
  absl::Status Check(absl::string_view account_id, absl::string_view namespace_id,
                     absl::string_view authorization) ABSL_LOCKS_EXCLUDED(mu_);
  // Check() without asking a central: OK or NOT_FOUND when the namespace is
  // known, nullopt when it is not (yet).
  std::optional<absl::Status> CheckKnown(absl::string_view account_id,
                                         absl::string_view namespace_id)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Forget(absl::string_view namespace_id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  CentralPool& pool_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> account_of_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::edge

#endif  // KV_EDGE_NAMESPACE_DIRECTORY_H_
