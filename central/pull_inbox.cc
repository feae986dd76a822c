#include "central/pull_inbox.h"

#include <utility>

namespace kv::central {

bool PullInbox::Push(kv::replication::v1::PullResponse message, absl::Time received_at) {
  const size_t bytes = message.ByteSizeLong();
  absl::MutexLock lock(&mu_);
  auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return failed_ || queue_.empty() || queued_bytes_ < max_bytes_;
  };
  mu_.Await(absl::Condition(&room));
  if (failed_) return false;
  queued_bytes_ += bytes;
  queue_.push_back(Received{std::move(message), received_at});
  return true;
}

void PullInbox::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

void PullInbox::Fail(std::string why) {
  absl::MutexLock lock(&mu_);
  if (!failed_) why_ = std::move(why);
  failed_ = true;
  queue_.clear();
  queued_bytes_ = 0;
}

void PullInbox::Nudge() {
  absl::MutexLock lock(&mu_);
  nudged_ = true;
}

std::optional<std::vector<PullInbox::Received>> PullInbox::TakeAll(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return failed_ || closed_ || nudged_ || !queue_.empty();
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  nudged_ = false;
  if (failed_ || (closed_ && queue_.empty())) return std::nullopt;
  std::vector<Received> out;
  out.reserve(queue_.size());
  for (Received& received : queue_) out.push_back(std::move(received));
  queue_.clear();
  queued_bytes_ = 0;
  return out;
}

std::string PullInbox::why() const {
  absl::MutexLock lock(&mu_);
  return why_;
}

}  // namespace kv::central
