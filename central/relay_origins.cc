#include "central/relay_origins.h"

#include <algorithm>
#include <utility>

namespace kv::central {

void RelayOrigins::Record(uint64_t first_local, uint64_t last_local, Source source) {
  if (first_local == 0 || last_local < first_local || capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  // Out of order (cannot happen with commit order): forget what overlaps.
  while (!ranges_.empty() && ranges_.back().last_local >= first_local) ranges_.pop_back();
  ranges_.push_back(Range{first_local, last_local, std::move(source)});
  while (ranges_.size() > capacity_) ranges_.pop_front();
}

std::optional<RelayOrigins::Source> RelayOrigins::Find(uint64_t local_sequence) const {
  absl::MutexLock lock(&mu_);
  // The first range ending at or after the sequence.
  auto it = std::lower_bound(
      ranges_.begin(), ranges_.end(), local_sequence,
      [](const Range& range, uint64_t sequence) { return range.last_local < sequence; });
  if (it == ranges_.end() || it->first_local > local_sequence) return std::nullopt;
  return it->source;
}

bool RelayOrigins::Covers(const kv::replication::v1::SourceHoldings& holdings,
                          const Source& source) {
  return holdings.node_id() == source.node_id && holdings.incarnation() == source.incarnation &&
         !source.incarnation.empty() && holdings.first_sequence() <= source.first_sequence &&
         source.last_sequence <= holdings.last_sequence();
}

kv::replication::v1::SourceHoldings RelayOrigins::ToHoldings(const Source& held) {
  kv::replication::v1::SourceHoldings holdings;
  holdings.set_node_id(held.node_id);
  holdings.set_incarnation(held.incarnation);
  holdings.set_first_sequence(held.first_sequence);
  holdings.set_last_sequence(held.last_sequence);
  return holdings;
}

}  // namespace kv::central
