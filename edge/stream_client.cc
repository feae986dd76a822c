#include "edge/stream_client.h"

#include <algorithm>

#include "common/logging.h"
#include "edge/cq_stream_reader.h"
#include "common/version.h"

namespace kv::edge {

StreamClient::StreamClient(const StreamClientOptions& options, CentralPool& pool,
                           LruCache& cache, Fetcher& fetcher, Revalidator& revalidator,
                           NamespaceDirectory& directory, StreamState& state,
                           EdgeMetrics& metrics, Clock& clock)
    : options_(options),
      pool_(pool),
      cache_(cache),
      fetcher_(fetcher),
      revalidator_(revalidator),
      directory_(directory),
      state_(state),
      metrics_(metrics),
      clock_(clock) {
  for (size_t i = 0; i < pool_.size(); ++i) {
    stubs_.push_back(kv::v1::Invalidation::NewStub(pool_.channel(i)));
  }
}

StreamClient::~StreamClient() { Stop(); }

void StreamClient::Start(grpc::CompletionQueue* events) {
  events_ = events;
  thread_ = std::thread([this] { Run(); });
  watchdog_ = std::thread([this] { Watchdog(); });
}

void StreamClient::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  {
    absl::MutexLock lock(&mu_);
    if (current_ != nullptr) current_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
  if (watchdog_.joinable()) watchdog_.join();
}

void StreamClient::Watchdog() {
  const absl::Duration tick = std::min(absl::Milliseconds(100), options_.silence_timeout / 4);
  while (!stop_.WaitForNotificationWithTimeout(tick)) {
    const absl::Duration age = state_.HeartbeatAge();
    const absl::Duration staleness = state_.Staleness();
    metrics_.stream_heartbeat_age_seconds.Set(
        age == absl::InfiniteDuration() ? -1 : absl::ToDoubleSeconds(age));
    metrics_.stream_staleness_seconds.Set(
        staleness == absl::InfiniteDuration() ? -1 : absl::ToDoubleSeconds(staleness));
    const bool connected = state_.connected();
    absl::MutexLock lock(&mu_);
    if (current_ == nullptr) continue;
    if (connected && age > options_.silence_timeout) {
      LOG(WARNING) << "invalidation stream silent for " << age << "; reconnecting";
      cancelled_silent_ = true;
      current_->TryCancel();
    } else if (!connected &&
               clock_.MonotonicNow() - attempt_start_ > options_.silence_timeout) {
      // A central that accepts the connection but never answers (paused).
      LOG(WARNING) << "no answer to a subscription within " << options_.silence_timeout
                   << "; trying the next central";
      current_->TryCancel();
    }
  }
}

void StreamClient::Run() {
  size_t index = pool_.preferred();
  while (!stop_.HasBeenNotified()) {
    const bool connected = SubscribeOnce(index);
    state_.OnDisconnected();
    metrics_.stream_connected.Set(0);
    if (stop_.HasBeenNotified()) break;
    // A stream that ended is retried on the same central first (it may
    // resume there); a central that refused or fell silent moves us on.
    bool silent;
    {
      absl::MutexLock lock(&mu_);
      silent = cancelled_silent_;
      cancelled_silent_ = false;
    }
    if (!connected || silent) {
      index = (index + 1) % pool_.size();
      pool_.SetPreferred(index);  // fetches stop waiting on the silent one
    }
    stop_.WaitForNotificationWithTimeout(options_.retry_backoff);
  }
}

bool StreamClient::SubscribeOnce(size_t index) {
  grpc::ClientContext context;
  if (!options_.authorization.empty()) {
    context.AddMetadata("authorization", options_.authorization);
  }
  {
    absl::MutexLock lock(&mu_);
    if (stop_.HasBeenNotified()) return false;
    current_ = &context;
    attempt_start_ = clock_.MonotonicNow();
  }
  kv::v1::SubscribeRequest request;
  request.set_edge_id(options_.edge_id);
  const StreamState::Position position = state_.position();
  request.mutable_resume()->set_central_id(position.central_id);
  request.mutable_resume()->set_incarnation(position.incarnation);
  request.mutable_resume()->set_sequence(position.sequence);
  if (const int64_t complete = state_.last_complete_as_of_ms(); complete > 0) {
    request.set_resume_from_apply_time_ms(
        complete - absl::ToInt64Milliseconds(options_.max_clock_offset + options_.write_deadline));
  }

  // Events collected by the server's queue thread (cq_stream_reader.h).
  auto reader = std::make_unique<CqStreamReader<kv::v1::InvalidationMessage>>(
      events_, [&](grpc::CompletionQueue* cq) {
        return stubs_[index]->PrepareAsyncSubscribe(&context, request, cq);
      });
  kv::v1::InvalidationMessage message;
  bool connected = false;
  uint64_t replay_until = 0;
  if (reader->Read(&message) && message.has_hello()) {
    const kv::v1::Hello& hello = message.hello();
    connected = true;
    metrics_.stream_reconnects.Increment();
    if (!hello.resumed()) {
      // Whatever was cached before this stream may have missed changes
      // (on a first subscription, only what was fetched before it).
      if (position.central_id == 0) {
        revalidator_.DistrustCache();
      } else {
        LoseContinuity("the central cannot resume at the edge's position");
      }
    }
    state_.OnConnected(hello.central_id(), hello.incarnation(), hello.start_sequence());
    pool_.SetPreferred(index);
    metrics_.stream_connected.Set(1);
    replay_until = hello.head_sequence();
    LOG(INFO) << "invalidation stream to " << pool_.addr(index) << " (central "
              << hello.central_id() << "): "
              << (hello.resumed_by_time() ? "resumed by time"
                                          : hello.resumed() ? "resumed" : "fresh")
              << " at sequence " << hello.start_sequence();
    uint64_t applied = hello.start_sequence() - 1;
    while (reader->Read(&message)) {
      if (message.has_batch()) {
        for (const kv::v1::ChangeEvent& event : message.batch().events()) {
          if (event.sequence() != applied + 1) {
            LoseContinuity("a gap in the stream's sequences");
            context.TryCancel();
            break;
          }
          Apply(event, event.sequence() > replay_until);
          applied = event.sequence();
        }
        state_.OnApplied(applied);
        metrics_.stream_last_applied_sequence.Set(static_cast<double>(applied));
      } else if (message.has_heartbeat()) {
        const kv::v1::Heartbeat& hb = message.heartbeat();
        state_.OnHeartbeat(hb.head_sequence(), hb.complete_as_of_ms(), hb.central_time_ms());
      }
    }
  }
  const grpc::Status status = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    current_ = nullptr;
  }
  if (!stop_.HasBeenNotified()) {
    LOG(WARNING) << "invalidation stream to " << pool_.addr(index)
                 << " ended: " << status.error_message() << " (" << status.error_code()
                 << ")";
  }
  return connected;
}

void StreamClient::Apply(const kv::v1::ChangeEvent& event, bool live) {
  if (live) {
    const int64_t now_us = absl::ToUnixMicros(clock_.TimeNow());
    const int64_t commit_us = event.commit_time_us() != 0 ? event.commit_time_us()
                                                          : event.commit_time_ms() * 1000;
    metrics_.propagation_latency.Observe(std::max<int64_t>(0, now_us - commit_us) / 1e6);
  } else {
    metrics_.replayed_events.Increment();
  }
  const Version version = Version::FromProto(event.version());
  switch (event.kind()) {
    case kv::v1::ChangeEvent::PUT:
    case kv::v1::ChangeEvent::DELETE: {
      const std::string cache_key = LruCache::CacheKey(event.namespace_id(), event.key());
      fetcher_.ApplyInvalidation(cache_key, [&] {
        const absl::Duration now = clock_.MonotonicNow();
        if (event.kind() == kv::v1::ChangeEvent::DELETE) {
          cache_.Refresh(CachedEntryRef(CachedEntry::NewNotFound(cache_key, version, now)));
        } else if (event.value_included()) {
          cache_.Refresh(CachedEntryRef(CachedEntry::NewFound(
              cache_key, event.value(),
              event.has_metadata() ? std::optional<absl::string_view>(event.metadata())
                                   : std::nullopt,
              event.expiration(), version, now)));
        }
        // Drops what Refresh did not replace (an older version).
        cache_.Invalidate(cache_key, version);
      });
      break;
    }
    case kv::v1::ChangeEvent::NAMESPACE_DELETE:
      directory_.Forget(event.namespace_id());
      cache_.EraseNamespace(event.namespace_id());
      break;
    default:
      break;
  }
}

void StreamClient::LoseContinuity(absl::string_view reason) {
  revalidator_.DistrustCache();
  metrics_.stream_continuity_lost.Increment();
  LOG(WARNING) << "continuity lost (" << reason << "): revalidating " << cache_.entries()
               << " cached entries";
}

}  // namespace kv::edge
