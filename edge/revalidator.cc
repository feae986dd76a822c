#include "edge/revalidator.h"

#include <algorithm>

#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/version.h"

namespace kv::edge {
namespace {

constexpr size_t kNamespaceIdBytes = 32;

}  // namespace

Revalidator::Revalidator(const RevalidatorOptions& options, CentralPool& pool, LruCache& cache,
                         Fetcher& fetcher, StreamState& state, EdgeMetrics& metrics,
                         Clock& clock)
    : options_(options),
      pool_(pool),
      cache_(cache),
      fetcher_(fetcher),
      state_(state),
      metrics_(metrics),
      clock_(clock) {
  for (size_t i = 0; i < pool_.size(); ++i) {
    stubs_.push_back(kv::v1::Invalidation::NewStub(pool_.channel(i)));
  }
}

Revalidator::~Revalidator() { Stop(); }

void Revalidator::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Revalidator::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Revalidator::DistrustCache() {
  state_.DistrustCachedBefore(clock_.MonotonicNow());
  absl::MutexLock lock(&mu_);
  pending_ = true;
}

bool Revalidator::idle() const {
  absl::MutexLock lock(&mu_);
  return !pending_ && !running_;
}

void Revalidator::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](Revalidator* r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(r->mu_) {
            return r->pending_ || r->stopping_;
          },
          this));
      if (stopping_) return;
      pending_ = false;
      running_ = true;
    }
    const bool done = Pass(state_.distrusted_before());
    absl::MutexLock lock(&mu_);
    running_ = false;
    if (!done && !stopping_) {
      pending_ = true;
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.retry_backoff);
    }
  }
}

bool Revalidator::Pass(absl::Duration distrust) {
  std::vector<CachedEntryRef> suspects = cache_.EntriesCachedBefore(distrust);
  if (suspects.empty()) return true;
  // Grouped by namespace, so the central reads each namespace's keys at once.
  std::sort(suspects.begin(), suspects.end(),
            [](const CachedEntryRef& a, const CachedEntryRef& b) {
              return a->cache_key() < b->cache_key();
            });
  LOG(INFO) << "revalidating " << suspects.size() << " cached entries";
  const size_t batch_keys = static_cast<size_t>(std::max(1, options_.batch_keys));
  for (size_t begin = 0; begin < suspects.size(); begin += batch_keys) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return true;
      // A newer loss of continuity: start over with the new mark.
      if (pending_) return true;
    }
    const size_t end = std::min(suspects.size(), begin + batch_keys);
    std::vector<CachedEntryRef> batch(suspects.begin() + static_cast<ptrdiff_t>(begin),
                                      suspects.begin() + static_cast<ptrdiff_t>(end));
    if (absl::Status s = RevalidateBatch(batch); !s.ok()) {
      LOG(WARNING) << "revalidation paused: " << s;
      return false;
    }
  }
  return true;
}

absl::Status Revalidator::RevalidateBatch(const std::vector<CachedEntryRef>& batch) {
  kv::v1::RevalidateRequest request;
  for (const CachedEntryRef& e : batch) {
    kv::v1::RevalidateRequest::Key* key = request.add_keys();
    const absl::string_view cache_key = e->cache_key();
    key->set_namespace_id(std::string(cache_key.substr(0, kNamespaceIdBytes)));
    key->set_key(std::string(cache_key.substr(kNamespaceIdBytes)));
  }
  kv::v1::RevalidateResponse response;
  // Current as of when the question was sent: a change committed after the
  // central read the version arrives on the stream, which was already up.
  const absl::Duration asked_at = clock_.MonotonicNow();
  const grpc::Status status =
      pool_.CallEach(options_.authorization, [&](size_t i, grpc::ClientContext& context) {
        return stubs_[i]->Revalidate(&context, request, &response);
      });
  if (!status.ok()) return FromGrpcStatus(status);
  if (response.keys_size() != static_cast<int>(batch.size())) {
    return absl::InternalError("a central answered a different number of keys");
  }
  double current = 0;
  double changed = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const CachedEntry& entry = *batch[i];
    const kv::v1::RevalidateResponse::Current& now = response.keys(static_cast<int>(i));
    // Still current when the central holds nothing newer than the entry:
    // the same live version, both "not found", or an older version than the
    // edge's own (a write of its own the central has not received yet).
    bool still_current;
    if (now.found()) {
      still_current = !(entry.version() < Version::FromProto(now.version()));
    } else {
      still_current = !entry.found();
    }
    if (still_current) {
      if (cache_.MarkRevalidated(entry, asked_at)) ++current;
    } else {
      bool erased = false;
      fetcher_.ApplyInvalidation(entry.cache_key(), [&] { erased = cache_.EraseEntry(entry); });
      if (erased) ++changed;
    }
  }
  metrics_.cache_bulk_revalidated_current.Increment(current);
  metrics_.cache_bulk_revalidated_changed.Increment(changed);
  return absl::OkStatus();
}

}  // namespace kv::edge
