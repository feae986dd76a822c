#include "central/stream_hub.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace kv::central {

using kv::storage::v1::ChangeEntry;
using kv::v1::ChangeEvent;

static_assert(static_cast<int>(ChangeEntry::PUT) == static_cast<int>(ChangeEvent::PUT));
static_assert(static_cast<int>(ChangeEntry::DELETE) == static_cast<int>(ChangeEvent::DELETE));
static_assert(static_cast<int>(ChangeEntry::NAMESPACE_CREATE) ==
              static_cast<int>(ChangeEvent::NAMESPACE_CREATE));
static_assert(static_cast<int>(ChangeEntry::NAMESPACE_RENAME) ==
              static_cast<int>(ChangeEvent::NAMESPACE_RENAME));
static_assert(static_cast<int>(ChangeEntry::NAMESPACE_DELETE) ==
              static_cast<int>(ChangeEvent::NAMESPACE_DELETE));
static_assert(static_cast<int>(ChangeEntry::NOOP) == static_cast<int>(ChangeEvent::NOOP));

// What the hub and its streams share; outlives both (shared_ptr).
struct HubShared {
  HubShared(Clock& c, StreamOptions o) : clock(c), options(std::move(o)) {}

  // Wakes the pump (ChangeLog listener, a stream with room again, shutdown).
  void Wake() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    wake = true;
  }
  // The same for a commit: nothing to do without streams (a new stream
  // wakes the pump itself), so writes to a central without edges cost no
  // wake-up of the pump.
  void WakeForCommit() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    if (live > 0) wake = true;
  }
  void NoteQueuedBytes(size_t bytes) {
    size_t seen = max_queued_bytes.load(std::memory_order_relaxed);
    while (bytes > seen &&
           !max_queued_bytes.compare_exchange_weak(seen, bytes, std::memory_order_relaxed)) {
    }
  }

  Clock& clock;
  const StreamOptions options;

  absl::Mutex mu;
  bool wake ABSL_GUARDED_BY(mu) = false;
  bool stop ABSL_GUARDED_BY(mu) = false;
  // Streams subscribed and not yet detached.
  int live ABSL_GUARDED_BY(mu) = 0;

  std::atomic<uint64_t> subscribed_total{0};
  std::atomic<uint64_t> too_slow_total{0};
  std::atomic<size_t> max_queued_bytes{0};
};

namespace {

// Accounted per queued event on top of its encoded size (the object).
constexpr size_t kEventOverheadBytes = 64;

absl::Duration SlowTimeout(const StreamOptions& options) {
  return options.slow_stream_timeout > absl::ZeroDuration() ? options.slow_stream_timeout
                                                             : 10 * options.heartbeat_interval;
}

}  // namespace

ChangeEvent ToChangeEvent(const SequencedChange& change) {
  const ChangeEntry& entry = change.entry;
  ChangeEvent event;
  event.set_sequence(change.sequence);
  event.set_kind(static_cast<ChangeEvent::Kind>(entry.kind()));
  event.set_namespace_id(entry.namespace_id());
  event.set_commit_time_ms(entry.commit_time_ms());
  event.set_commit_time_us(entry.commit_time_us());
  if (entry.has_version()) *event.mutable_version() = entry.version();
  if (entry.kind() == ChangeEntry::PUT || entry.kind() == ChangeEntry::DELETE) {
    event.set_key(entry.key());
    event.set_expiration(entry.expiration());
    if (entry.has_metadata()) event.set_metadata(entry.metadata());
    if (entry.value_included()) {
      event.set_value_included(true);
      event.set_value(entry.value());
    }
  }
  // Namespace entries: `value` holds a StoredNamespace, internal to centrals.
  return event;
}

// --- HubStream ----------------------------------------------------------------

HubStream::HubStream(std::shared_ptr<HubShared> shared, StreamWriter* writer,
                     std::string edge_id, kv::v1::Hello hello)
    : shared_(std::move(shared)), edge_id_(std::move(edge_id)), writer_(writer) {
  next_read_ = hello.start_sequence();
  written_last_ = hello.start_sequence() - 1;
  hello_ = std::move(hello);
}

size_t HubStream::queued_bytes() const {
  absl::MutexLock lock(&mu_);
  return queued_bytes_;
}

size_t HubStream::queued_entries() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

uint64_t HubStream::next_sequence() const {
  absl::MutexLock lock(&mu_);
  return next_read_;
}

bool HubStream::detached() const {
  absl::MutexLock lock(&mu_);
  return detached_;
}

bool HubStream::WantsEventsLocked() const {
  const StreamOptions& o = shared_->options;
  return !finish_.has_value() && !detached_ && queued_bytes_ < std::max<size_t>(o.queue_bytes / 2, 1) &&
         queue_.size() < std::max<size_t>(o.queue_entries / 2, 1);
}

bool HubStream::WantsEvents(uint64_t head) const {
  absl::MutexLock lock(&mu_);
  return next_read_ <= head && WantsEventsLocked();
}

std::pair<size_t, size_t> HubStream::Room() const {
  absl::MutexLock lock(&mu_);
  const StreamOptions& o = shared_->options;
  const size_t entries = o.queue_entries > queue_.size() ? o.queue_entries - queue_.size() : 0;
  const size_t bytes = o.queue_bytes > queued_bytes_ ? o.queue_bytes - queued_bytes_ : 0;
  return {entries, bytes};
}

size_t HubStream::Enqueue(const std::vector<Queued>& events) {
  absl::MutexLock lock(&mu_);
  if (finish_.has_value() || detached_ || events.empty()) return 0;
  CHECK_EQ(events.front().event.sequence(), next_read_) << "stream " << edge_id_;
  const StreamOptions& o = shared_->options;
  size_t taken = 0;
  for (const Queued& q : events) {
    if (queue_.size() >= o.queue_entries) break;
    if (!queue_.empty() && queued_bytes_ + q.bytes > o.queue_bytes) break;
    queue_.push_back(q);
    queued_bytes_ += q.bytes;
    ++taken;
  }
  next_read_ += taken;
  // Some did not fit: read again once the queue has drained (Run wakes the
  // pump).
  if (taken < events.size()) starved_ = true;
  shared_->NoteQueuedBytes(queued_bytes_);
  return taken;
}

absl::Duration HubStream::Tick(uint64_t head, int64_t complete_as_of_ms, absl::Duration now) {
  const StreamOptions& o = shared_->options;
  absl::Duration deadline = absl::InfiniteDuration();
  bool run = false;
  std::optional<absl::Status> too_slow;
  {
    absl::MutexLock lock(&mu_);
    if (finish_.has_value() || detached_) return deadline;
    if (next_read_ > head) {
      // Caught up: every entry <= head is queued, and goes out before the
      // heartbeat.
      stuck_since_.reset();
      starved_ = false;
      if (heartbeat_.has_value()) return deadline;  // one pending at a time
      if (!last_heartbeat_.has_value() || now - *last_heartbeat_ >= o.heartbeat_interval) {
        kv::v1::Heartbeat heartbeat;
        heartbeat.set_head_sequence(head);
        heartbeat.set_complete_as_of_ms(complete_as_of_ms);
        heartbeat_ = std::move(heartbeat);
        last_heartbeat_ = now;
        run = true;
      }
      deadline = *last_heartbeat_ + o.heartbeat_interval;
    } else if (WantsEventsLocked()) {
      stuck_since_.reset();
    } else {
      // Behind with a full queue: the pump waits for room (Run() wakes it).
      starved_ = true;
      if (!stuck_since_.has_value()) stuck_since_ = now;
      if (now - *stuck_since_ < SlowTimeout(o)) {
        deadline = *stuck_since_ + SlowTimeout(o);
      } else {
        too_slow = absl::ResourceExhaustedError(absl::StrCat(
            "stream too slow; reconnect and resume from sequence ", written_last_));
      }
    }
  }
  if (too_slow.has_value()) {
    LOG(WARNING) << "invalidation stream of edge '" << edge_id_
                 << "' too slow: " << too_slow->message();
    FinishWith(*std::move(too_slow));
    shared_->too_slow_total.fetch_add(1, std::memory_order_relaxed);
  } else if (run) {
    Run();
  }
  return deadline;
}

void HubStream::ClearQueueLocked() {
  queue_.clear();
  queued_bytes_ = 0;
  heartbeat_.reset();
}

HubStream::Action HubStream::NextActionLocked(absl::Status* status) {
  if (writer_ == nullptr || finish_sent_) return Action::kNone;
  if (finish_.has_value()) {
    // Also while a write is in flight: a stuck write must not keep the call
    // open (gRPC sends the status after the message).
    finish_sent_ = true;
    *status = *finish_;
    return Action::kFinish;
  }
  if (write_in_flight_) return Action::kNone;
  const StreamOptions& o = shared_->options;
  current_.Clear();
  if (hello_.has_value()) {
    *current_.mutable_hello() = *std::move(hello_);
    hello_.reset();
    in_flight_last_ = written_last_;
  } else if (!queue_.empty() &&
             (!heartbeat_.has_value() ||
              queue_.front().event.sequence() <= heartbeat_->head_sequence())) {
    kv::v1::EventBatch* batch = current_.mutable_batch();
    size_t bytes = 0;
    while (!queue_.empty() && static_cast<size_t>(batch->events_size()) < o.batch_entries) {
      Queued& q = queue_.front();
      if (batch->events_size() > 0 && bytes + q.bytes > o.batch_bytes) break;
      if (heartbeat_.has_value() && q.event.sequence() > heartbeat_->head_sequence()) break;
      bytes += q.bytes;
      queued_bytes_ -= q.bytes;
      in_flight_last_ = q.event.sequence();
      *batch->add_events() = std::move(q.event);
      queue_.pop_front();
    }
  } else if (heartbeat_.has_value()) {
    kv::v1::Heartbeat* heartbeat = current_.mutable_heartbeat();
    *heartbeat = *std::move(heartbeat_);
    heartbeat_.reset();
    heartbeat->set_central_time_ms(absl::ToUnixMillis(shared_->clock.TimeNow()));
    in_flight_last_ = written_last_;
  } else {
    return Action::kNone;
  }
  write_in_flight_ = true;
  return Action::kWrite;
}

void HubStream::Run() {
  {
    absl::MutexLock lock(&mu_);
    // One runner at a time: it re-checks the state after every call, so
    // whatever another thread changed meanwhile is picked up.
    if (running_) return;
    running_ = true;
  }
  bool wake_pump = false;
  while (true) {
    absl::Status status;
    Action action;
    StreamWriter* writer;
    {
      absl::MutexLock lock(&mu_);
      action = NextActionLocked(&status);
      writer = writer_;
      // A batch left the queue: if the pump is waiting for room, wake it.
      if (action == Action::kWrite && current_.has_batch() && starved_ && WantsEventsLocked()) {
        starved_ = false;
        wake_pump = true;
      }
      if (action == Action::kNone) {
        running_ = false;
        break;
      }
    }
    // Outside the lock. The writer (reactor) is alive: OnDone comes only
    // after SendFinish, and nothing is called after SendFinish.
    if (action == Action::kWrite) {
      writer->SendMessage(current_);  // unchanged until OnWriteDone
    } else {
      writer->SendFinish(status);
    }
  }
  if (wake_pump) shared_->Wake();
}

void HubStream::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    write_in_flight_ = false;
    if (ok) {
      written_last_ = in_flight_last_;
      stuck_since_.reset();
    } else if (!finish_.has_value()) {
      finish_ = absl::CancelledError("invalidation stream write failed (client gone)");
      ClearQueueLocked();
    }
  }
  Run();
}

void HubStream::OnCancel() {
  FinishWith(absl::CancelledError("invalidation stream cancelled by the client"));
}

void HubStream::FinishWith(absl::Status status) {
  {
    absl::MutexLock lock(&mu_);
    if (finish_.has_value()) return;
    finish_ = std::move(status);
    ClearQueueLocked();
  }
  Run();
}

void HubStream::Detach() {
  {
    absl::MutexLock lock(&mu_);
    if (detached_) return;
    detached_ = true;
    writer_ = nullptr;
    ClearQueueLocked();
  }
  absl::MutexLock lock(&shared_->mu);
  --shared_->live;
  shared_->wake = true;
}

// --- StreamHub ----------------------------------------------------------------

StreamHub::StreamHub(ChangeLog& log, uint32_t central_id, Clock& clock, StreamOptions options)
    : log_(log),
      central_id_(central_id),
      clock_(clock),
      shared_(std::make_shared<HubShared>(clock, std::move(options))) {
  CHECK_GT(shared_->options.batch_entries, 0u);
  CHECK_GT(shared_->options.queue_entries, 0u);
  CHECK_GT(shared_->options.heartbeat_interval, absl::ZeroDuration());
}

StreamHub::~StreamHub() { Stop(); }

const StreamOptions& StreamHub::options() const { return shared_->options; }

void StreamHub::Start() {
  CHECK(!pump_.joinable()) << "StreamHub started twice";
  listener_id_ = log_.AddListener([shared = shared_](uint64_t) { shared->WakeForCommit(); });
  pump_ = std::thread([this] { PumpLoop(); });
}

void StreamHub::Stop() {
  {
    absl::MutexLock lock(&shared_->mu);
    shared_->stop = true;
  }
  if (pump_.joinable()) pump_.join();
  if (listener_id_ >= 0) {
    log_.RemoveListener(listener_id_);
    listener_id_ = -1;
  }
}

void StreamHub::PumpLoop() {
  while (true) {
    {
      absl::MutexLock lock(&shared_->mu);
      if (shared_->stop) return;
      shared_->wake = false;
    }
    if (RunOnce()) continue;
    absl::Duration wait = next_wake_ - clock_.MonotonicNow();
    wait = std::clamp(wait, absl::Milliseconds(1), shared_->options.heartbeat_interval);
    absl::MutexLock lock(&shared_->mu);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared_->mu) {
      return shared_->wake || shared_->stop;
    };
    shared_->mu.AwaitWithTimeout(absl::Condition(&ready), wait);
  }
}

bool StreamHub::RunOnce() {
  // R before the head: everything committed before R has a sequence <= head.
  const absl::Time read_time = clock_.TimeNow();
  const uint64_t head = log_.LastSequence();
  // Heartbeats are timed from here, like R.
  const absl::Duration now = clock_.MonotonicNow();
  absl::Time complete = read_time;
  if (shared_->options.complete_as_of) {
    complete = std::min(complete, shared_->options.complete_as_of());
  }
  // Unknown completeness (InfinitePast) goes out as 0: "no proof", never as
  // a value whose difference with a clock reading overflows.
  complete = std::max(complete, absl::UnixEpoch());
  const int64_t complete_ms = absl::ToUnixMillis(complete);

  std::vector<std::shared_ptr<HubStream>> streams;
  {
    absl::MutexLock lock(&mu_);
    streams_.erase(std::remove_if(streams_.begin(), streams_.end(),
                                  [](const std::shared_ptr<HubStream>& s) {
                                    return s->detached();
                                  }),
                   streams_.end());
    streams = streams_;
  }

  // Streams at the same position share one read.
  std::map<uint64_t, std::vector<HubStream*>> groups;
  for (const std::shared_ptr<HubStream>& stream : streams) {
    if (stream->WantsEvents(head)) groups[stream->next_sequence()].push_back(stream.get());
  }
  const StreamOptions& o = shared_->options;
  bool progress = false;
  for (const auto& [from, group] : groups) {
    size_t max_entries = 0;
    size_t max_bytes = 0;
    for (HubStream* stream : group) {
      auto [entries, bytes] = stream->Room();
      max_entries = std::max(max_entries, entries);
      max_bytes = std::max(max_bytes, bytes);
    }
    max_entries = std::min(max_entries, o.batch_entries);
    max_bytes = std::max<size_t>(std::min(max_bytes, o.batch_bytes), 1);
    absl::StatusOr<std::vector<SequencedChange>> read = log_.Read(from, max_entries, max_bytes);
    if (!read.ok()) {
      absl::Status status =
          read.status().code() == absl::StatusCode::kOutOfRange
              ? absl::OutOfRangeError(absl::StrCat(
                    "change log position ", from,
                    " has been trimmed (first retained sequence: ", log_.FirstSequence(),
                    "); subscribe again: this stream cannot continue without a gap"))
              : absl::UnavailableError(
                    absl::StrCat("reading the change log failed: ", read.status().message(),
                                 "; resume on another central"));
      LOG(WARNING) << "invalidation streams at sequence " << from << ": " << status;
      for (HubStream* stream : group) stream->FinishWith(status);
      continue;
    }
    if (read->empty()) continue;
    std::vector<HubStream::Queued> events;
    events.reserve(read->size());
    for (const SequencedChange& change : *read) {
      HubStream::Queued q;
      q.event = ToChangeEvent(change);
      q.bytes = q.event.ByteSizeLong() + kEventOverheadBytes;
      events.push_back(std::move(q));
    }
    for (HubStream* stream : group) {
      if (stream->Enqueue(events) > 0) progress = true;
      stream->Run();
    }
  }

  absl::Duration next = now + o.heartbeat_interval;
  for (const std::shared_ptr<HubStream>& stream : streams) {
    next = std::min(next, stream->Tick(head, complete_ms, now));
  }
  next_wake_ = next;
  return progress;
}

absl::StatusOr<std::shared_ptr<HubStream>> StreamHub::Subscribe(
    const kv::v1::SubscribeRequest& request, StreamWriter* writer) {
  absl::MutexLock lock(&mu_);
  if (shutting_down_) {
    return absl::UnavailableError("this central is shutting down; subscribe to another one");
  }
  // First before last: a trim in between only makes the check stricter.
  const uint64_t first = log_.FirstSequence();
  const uint64_t last = log_.LastSequence();
  const kv::v1::ResumeToken& token = request.resume();
  const bool same_log = token.central_id() == central_id_ && token.incarnation() == log_.incarnation();
  bool resumed = token.central_id() != 0 && same_log && token.sequence() + 1 >= first &&
                 token.sequence() <= last;
  uint64_t start = resumed ? token.sequence() + 1 : last + 1;
  bool by_time = false;
  if (!resumed && token.central_id() != 0 && !same_log &&
      request.resume_from_apply_time_ms() > 0) {
    // A failover: replay what this central applied since the edge's last
    // proof of completeness, if the log reaches back that far.
    absl::StatusOr<ChangeLog::TimePosition> position =
        log_.FindAppliedAtOrAfter(request.resume_from_apply_time_ms());
    if (position.ok() && position->covered && position->sequence <= last + 1) {
      resumed = by_time = true;
      start = position->sequence;
    }
  }
  kv::v1::Hello hello;
  hello.set_central_id(central_id_);
  hello.set_incarnation(log_.incarnation());
  hello.set_resumed(resumed);
  hello.set_resumed_by_time(by_time);
  hello.set_start_sequence(start);
  hello.set_head_sequence(last);
  LOG(INFO) << "invalidation stream for edge '" << request.edge_id() << "': "
            << (by_time ? "resumed by time" : resumed ? "resumed" : "not resumed")
            << ", from sequence " << hello.start_sequence() << " (head " << last << ")";
  auto stream = std::make_shared<HubStream>(shared_, writer, request.edge_id(), std::move(hello));
  streams_.push_back(stream);
  shared_->subscribed_total.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock shared_lock(&shared_->mu);
  ++shared_->live;
  shared_->wake = true;
  return stream;
}

void StreamHub::FinishAll(const absl::Status& status) {
  std::vector<std::shared_ptr<HubStream>> streams;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    streams = streams_;
  }
  for (const std::shared_ptr<HubStream>& stream : streams) stream->FinishWith(status);
}

bool StreamHub::WaitForStreamsDone(absl::Duration timeout) {
  absl::MutexLock lock(&shared_->mu);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared_->mu) {
    return shared_->live == 0;
  };
  return shared_->mu.AwaitWithTimeout(absl::Condition(&done), timeout);
}

int StreamHub::stream_count() const {
  absl::MutexLock lock(&shared_->mu);
  return shared_->live;
}

uint64_t StreamHub::subscribed_total() const {
  return shared_->subscribed_total.load(std::memory_order_relaxed);
}

uint64_t StreamHub::too_slow_total() const {
  return shared_->too_slow_total.load(std::memory_order_relaxed);
}

size_t StreamHub::max_queued_bytes() const {
  return shared_->max_queued_bytes.load(std::memory_order_relaxed);
}

std::vector<StreamStats> StreamHub::Stats() const {
  absl::MutexLock lock(&mu_);
  std::vector<StreamStats> stats;
  for (const std::shared_ptr<HubStream>& stream : streams_) {
    if (stream->detached()) continue;
    StreamStats s;
    s.edge_id = stream->edge_id();
    s.next_sequence = stream->next_sequence();
    s.queued_entries = stream->queued_entries();
    s.queued_bytes = stream->queued_bytes();
    stats.push_back(std::move(s));
  }
  return stats;
}

}  // namespace kv::central
