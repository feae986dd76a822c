#include "central/group_commit_wait.h"

#include <algorithm>

namespace kv::central {

namespace {
// Clients not seen for this long are forgotten.
constexpr absl::Duration kForgetAfter = absl::Seconds(1);
// Waits are off for this long after a timeout, doubling with each further
// one, up to kMaxBackoff.
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(10);
constexpr absl::Duration kMaxBackoff = absl::Seconds(1);
}  // namespace

GroupCommitWait::GroupCommitWait(const Options& options) : options_(options) {}

void GroupCommitWait::OnArrival(absl::string_view client, absl::Time now) {
  if (!enabled()) return;
  absl::MutexLock lock(&mu_);
  PruneLocked(now);
  Client& c = clients_[client];
  ++c.in_flight;
  c.last_write = now;
}

void GroupCommitWait::OnAnswer(absl::string_view client) {
  if (!enabled()) return;
  absl::MutexLock lock(&mu_);
  auto it = clients_.find(client);
  if (it != clients_.end() && it->second.in_flight > 0) --it->second.in_flight;
}

int GroupCommitWait::Expected(absl::Time now) {
  if (!enabled()) return 0;
  absl::MutexLock lock(&mu_);
  if (now < backoff_until_ || clients_.size() > options_.max_clients) return 0;
  int expected = 0;
  for (const auto& [name, c] : clients_) {
    if (c.in_flight == 0 && now - c.last_write <= options_.active_within) ++expected;
  }
  return expected;
}

void GroupCommitWait::OnWaitEnded(bool complete, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (complete) {
    timeouts_in_a_row_ = 0;
    return;
  }
  const absl::Duration backoff =
      std::min(kMaxBackoff, kFirstBackoff * (int64_t{1} << std::min(timeouts_in_a_row_, 7)));
  ++timeouts_in_a_row_;
  backoff_until_ = now + backoff;
}

void GroupCommitWait::PruneLocked(absl::Time now) {
  if (now - last_prune_ < kForgetAfter) return;
  last_prune_ = now;
  absl::erase_if(clients_, [now](const auto& entry) {
    return entry.second.in_flight == 0 && now - entry.second.last_write > kForgetAfter;
  });
}

}  // namespace kv::central
