#ifndef KV_CENTRAL_RELAY_ORIGINS_H_
#define KV_CENTRAL_RELAY_ORIGINS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proto/replication.pb.h"

namespace kv::central {

// Where this central's recent replicated change-log entries came from: for
// each applied batch of a Pull stream, the local sequences it was logged
// under and the source's log (node, incarnation) and sequence range. A Pull
// sender asks it whether a peer already holds an entry it would relay
// (PullHoldings, proto/replication.proto).
//
// Guarantees: Find answers only from ranges recorded and still kept (the
// last `capacity` batches); an entry it knows nothing of is relayed as
// before. Recorded ranges must come in increasing local sequence order
// (commit order). Thread-safe.
class RelayOrigins {
 public:
  struct Source {
    uint32_t node_id = 0;
    std::string incarnation;
    // The source sequences of the whole batch: the entry is one of them.
    uint64_t first_sequence = 0;
    uint64_t last_sequence = 0;
  };

  explicit RelayOrigins(size_t capacity = 16384) : capacity_(capacity) {}

  // Local sequences [first_local, last_local] hold entries of `source`.
  void Record(uint64_t first_local, uint64_t last_local, Source source) ABSL_LOCKS_EXCLUDED(mu_);
  std::optional<Source> Find(uint64_t local_sequence) const ABSL_LOCKS_EXCLUDED(mu_);

  // Whether `holdings` covers an entry of `source` (the same log
  // incarnation, and the whole batch's range).
  static bool Covers(const kv::replication::v1::SourceHoldings& holdings, const Source& source);
  // The report that this central holds the whole range of `held` (sent in
  // PullHoldings; what Covers is checked against at the sender).
  static kv::replication::v1::SourceHoldings ToHoldings(const Source& held);

 private:
  struct Range {
    uint64_t first_local;
    uint64_t last_local;
    Source source;
  };
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::deque<Range> ranges_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv::central

#endif  // KV_CENTRAL_RELAY_ORIGINS_H_
