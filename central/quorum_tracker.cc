#include "central/quorum_tracker.h"

#include <algorithm>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/thread_pool.h"

namespace kv::central {

QuorumTracker::QuorumTracker() : timer_([this] { TimerLoop(); }) {}

QuorumTracker::~QuorumTracker() {
  Shutdown();
  timer_.join();
}

void QuorumTracker::Run(std::vector<Answer>& answers) {
  for (Answer& answer : answers) std::move(answer.done)(answer.outcome, answer.peers);
}

size_t QuorumTracker::CountAtLeast(uint64_t sequence) const {
  size_t count = 0;
  for (const auto& [peer, acked] : acked_) count += acked >= sequence ? 1 : 0;
  return count;
}

uint64_t QuorumTracker::QuorumSequence(size_t needed) const {
  if (needed == 0) return UINT64_MAX;
  if (acked_.size() < needed) return 0;
  std::vector<uint64_t> acked;
  acked.reserve(acked_.size());
  for (const auto& [peer, sequence] : acked_) acked.push_back(sequence);
  std::nth_element(acked.begin(), acked.begin() + static_cast<ptrdiff_t>(needed - 1), acked.end(),
                   std::greater<>());
  return acked[needed - 1];
}

QuorumTracker::Answer QuorumTracker::Take(uint64_t id, Outcome outcome) {
  auto it = waiters_.find(id);
  Waiter& waiter = it->second;
  by_sequence_.erase({waiter.needed, waiter.sequence, id});
  by_deadline_.erase({waiter.deadline, id});
  Answer answer{std::move(waiter.done), outcome,
                std::min(CountAtLeast(waiter.sequence), waiter.needed)};
  waiters_.erase(it);
  return answer;
}

void QuorumTracker::OnAck(uint32_t peer_id, uint64_t sequence) {
  std::vector<Answer> answers;
  {
    absl::MutexLock lock(&mu_);
    uint64_t& acked = acked_[peer_id];
    if (sequence <= acked) return;
    acked = sequence;
    // Per group of waiters needing the same number of peers, those at or
    // below the group's quorum sequence are met.
    auto it = by_sequence_.begin();
    while (it != by_sequence_.end()) {
      const size_t needed = std::get<0>(*it);
      const uint64_t reached = QuorumSequence(needed);
      while (it != by_sequence_.end() && std::get<0>(*it) == needed &&
             std::get<1>(*it) <= reached) {
        const uint64_t id = std::get<2>(*it);
        ++it;  // Take erases the current element
        answers.push_back(Take(id, Outcome::kReached));
      }
      it = by_sequence_.lower_bound({needed + 1, 0, 0});
    }
  }
  Run(answers);
}

void QuorumTracker::WaitAsync(uint64_t sequence, size_t needed, absl::Time deadline,
                              Callback done) {
  Outcome outcome;
  size_t have;
  {
    absl::MutexLock lock(&mu_);
    have = CountAtLeast(sequence);
    if (have >= needed) {
      outcome = Outcome::kReached;
    } else if (shut_down_) {
      outcome = Outcome::kShutdown;
    } else if (deadline <= RealClock::Get().TimeNow()) {
      outcome = Outcome::kDeadline;
    } else {
      const uint64_t id = next_id_++;
      if (by_deadline_.empty() || deadline < by_deadline_.begin()->first) ++timer_changes_;
      by_sequence_.emplace(needed, sequence, id);
      by_deadline_.emplace(deadline, id);
      waiters_.emplace(id, Waiter{sequence, needed, deadline, std::move(done)});
      return;
    }
  }
  std::move(done)(outcome, std::min(have, needed));
}

size_t QuorumTracker::WaitFor(uint64_t sequence, size_t needed, absl::Time deadline) {
  absl::Notification answered;
  size_t got = 0;
  WaitAsync(sequence, needed, deadline, [&](Outcome, size_t peers) {
    got = peers;
    answered.Notify();
  });
  answered.WaitForNotification();
  return got;
}

void QuorumTracker::Shutdown() {
  std::vector<Answer> answers;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    while (!waiters_.empty()) answers.push_back(Take(waiters_.begin()->first, Outcome::kShutdown));
  }
  Run(answers);
}

void QuorumTracker::TimerLoop() {
  NameThisThread("kv-quorum-timer");
  mu_.Lock();
  while (!shut_down_) {
    const uint64_t seen = timer_changes_;
    const absl::Time earliest =
        by_deadline_.empty() ? absl::InfiniteFuture() : by_deadline_.begin()->first;
    auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return shut_down_ || timer_changes_ != seen;
    };
    // Deadlines are in RealClock time (which tests may skew), so a timeout.
    mu_.AwaitWithTimeout(absl::Condition(&changed), earliest - RealClock::Get().TimeNow());
    const absl::Time now = RealClock::Get().TimeNow();
    std::vector<Answer> answers;
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      answers.push_back(Take(by_deadline_.begin()->second, Outcome::kDeadline));
    }
    if (answers.empty()) continue;
    mu_.Unlock();
    Run(answers);
    mu_.Lock();
  }
  mu_.Unlock();
}

uint64_t QuorumTracker::Acked(uint32_t peer_id) const {
  absl::MutexLock lock(&mu_);
  auto it = acked_.find(peer_id);
  return it == acked_.end() ? 0 : it->second;
}

size_t QuorumTracker::waiting() const {
  absl::MutexLock lock(&mu_);
  return waiters_.size();
}

}  // namespace kv::central
