#ifndef KV_CENTRAL_STREAM_HUB_H_
#define KV_CENTRAL_STREAM_HUB_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "central/change_log.h"
#include "common/clock.h"
#include "proto/invalidation.pb.h"

namespace kv::central {

// Settings of the central → edge invalidation streams (DESIGN §4.3).
struct StreamOptions {
  // How often a stream that is caught up gets a heartbeat. Default: 1 s.
  absl::Duration heartbeat_interval = absl::Seconds(1);
  // Most events in one EventBatch message. Default: 512.
  size_t batch_entries = 512;
  // Roughly the most bytes of events in one EventBatch (a single larger
  // event still goes alone). Default: 1 MiB.
  size_t batch_bytes = size_t{1} << 20;
  // Bound of each stream's queue of events not yet handed to gRPC, in
  // (accounted) bytes and in entries. A single event larger than
  // queue_bytes is still queued when the queue is empty.
  // Defaults: 8 MiB, 8192 entries.
  size_t queue_bytes = size_t{8} << 20;
  size_t queue_entries = 8192;
  // A stream that is behind and whose queue has had no room (and whose edge
  // completed no write) for this long is finished with RESOURCE_EXHAUSTED;
  // the edge reconnects and resumes. Zero: 10 × heartbeat_interval.
  absl::Duration slow_stream_timeout = absl::ZeroDuration();
  // The node's completeness time (DESIGN §4.2): heartbeats carry
  // complete_as_of = min(R, complete_as_of()) where R is the wall time read
  // before the head sequence. Unset: R (a single central is complete up to
  // its own log head). Called on the pump thread; must not block.
  std::function<absl::Time()> complete_as_of;
};

// Where a stream's messages go: implemented by the gRPC reactor. The calls
// are serialized (never two at once) and never made while a lock of the hub
// is held. After SendFinish no call follows.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Starts writing `message` (StartWrite); it stays unchanged until
  // HubStream::OnWriteDone.
  virtual void SendMessage(const kv::v1::InvalidationMessage& message) = 0;
  // Finishes the call (Finish). May be called while a write is in flight.
  virtual void SendFinish(const absl::Status& status) = 0;
};

struct HubShared;

// One subscribed stream: its bounded queue of events, the message being
// written and the decisions about what to send next. Shared (shared_ptr)
// between the hub's pump and the reactor, so neither outlives what it uses.
// Thread-safe.
class HubStream {
 public:
  HubStream(std::shared_ptr<HubShared> shared, StreamWriter* writer, std::string edge_id,
            kv::v1::Hello hello);
  HubStream(const HubStream&) = delete;
  HubStream& operator=(const HubStream&) = delete;

  // --- Reactor side; none of these blocks.
  // Sends whatever is due (Hello, events, heartbeat, Finish).
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // The write of the last SendMessage completed (ok = it went out).
  void OnWriteDone(bool ok) ABSL_LOCKS_EXCLUDED(mu_);
  // The client went away: finish (CANCELLED) unless already finishing.
  void OnCancel() ABSL_LOCKS_EXCLUDED(mu_);
  // OnDone: the writer is gone; the hub drops the stream.
  void Detach() ABSL_LOCKS_EXCLUDED(mu_);

  // Decides to finish the stream with `status` (ignored when already
  // decided) and drops its queue.
  void FinishWith(absl::Status status) ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& edge_id() const { return edge_id_; }
  size_t queued_bytes() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t queued_entries() const ABSL_LOCKS_EXCLUDED(mu_);
  // The next sequence the pump will queue.
  uint64_t next_sequence() const ABSL_LOCKS_EXCLUDED(mu_);
  bool detached() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class StreamHub;
  struct Queued {
    kv::v1::ChangeEvent event;
    size_t bytes = 0;
  };
  enum class Action { kNone, kWrite, kFinish };

  // Pump side (the pump thread only moves next_read_).
  // True when the stream wants events at next_read_ <= head: not finishing
  // and its queue below the refill mark (half its bounds).
  bool WantsEvents(uint64_t head) const ABSL_LOCKS_EXCLUDED(mu_);
  // Room left in the queue (entries, bytes).
  std::pair<size_t, size_t> Room() const ABSL_LOCKS_EXCLUDED(mu_);
  // Queues the longest prefix of `events` (which start at next_read_) that
  // fits; returns how many.
  size_t Enqueue(const std::vector<Queued>& events) ABSL_LOCKS_EXCLUDED(mu_);
  // Heartbeat and slowness bookkeeping for one pump pass; returns when the
  // pump should look at this stream again (InfiniteFuture: no deadline).
  absl::Duration Tick(uint64_t head, int64_t complete_as_of_ms, absl::Duration now)
      ABSL_LOCKS_EXCLUDED(mu_);

  Action NextActionLocked(absl::Status* status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool WantsEventsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearQueueLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<HubShared> shared_;
  const std::string edge_id_;

  mutable absl::Mutex mu_;
  StreamWriter* writer_ ABSL_GUARDED_BY(mu_);
  // The message being written: unchanged while write_in_flight_.
  // Written by the runner under mu_ only while no write is in flight; read
  // by gRPC during the write (outside mu_).
  kv::v1::InvalidationMessage current_;
  std::optional<kv::v1::Hello> hello_ ABSL_GUARDED_BY(mu_);
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // A heartbeat to send once every queued event <= its head is sent.
  std::optional<kv::v1::Heartbeat> heartbeat_ ABSL_GUARDED_BY(mu_);
  uint64_t next_read_ ABSL_GUARDED_BY(mu_) = 0;
  // The last sequence of the message in flight / of the last completed write.
  uint64_t in_flight_last_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_last_ ABSL_GUARDED_BY(mu_) = 0;
  bool write_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Status> finish_ ABSL_GUARDED_BY(mu_);
  bool finish_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool detached_ ABSL_GUARDED_BY(mu_) = false;
  // The pump found no room while the stream was behind: wake it once the
  // queue drains below the refill mark.
  bool starved_ ABSL_GUARDED_BY(mu_) = false;
  // Monotonic time since which the stream has been behind with no room and
  // no completed write.
  std::optional<absl::Duration> stuck_since_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Duration> last_heartbeat_ ABSL_GUARDED_BY(mu_);
};

// Per-stream numbers for tests and (later) metrics.
struct StreamStats {
  std::string edge_id;
  uint64_t next_sequence = 0;
  size_t queued_entries = 0;
  size_t queued_bytes = 0;
};

// Feeds every invalidation stream of a central from its change log.
//
// One pump thread reads the log (reads never happen in reactor callbacks)
// for every stream that is behind and has room in its queue, one Read for
// all streams at the same position, converts the entries to ChangeEvents
// and queues them; the stream's writer sends them in batches, one write in
// flight at a time. New commits wake the pump through a ChangeLog listener
// (which only sets a flag). A caught-up stream gets a heartbeat every
// heartbeat_interval. Memory per stream is bounded by the queue bounds plus
// the message in flight.
// Thread-safe. `log` and `clock` must outlive the hub and every stream.
class StreamHub {
 public:
  StreamHub(ChangeLog& log, uint32_t central_id, Clock& clock, StreamOptions options);
  ~StreamHub();
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Starts / stops (joins) the pump thread. Stop is idempotent.
  void Start();
  void Stop();

  // One pump pass (tests may drive it without Start; never concurrently with
  // the pump thread). Returns true when it queued anything (more may be
  // ready at once).
  bool RunOnce();

  // Registers a stream for `request` writing to `writer` and decides its
  // Hello (sent first once Run() is called). UNAVAILABLE once shutting down.
  absl::StatusOr<std::shared_ptr<HubStream>> Subscribe(
      const kv::v1::SubscribeRequest& request, StreamWriter* writer);

  // Shutdown: refuses new streams and finishes every stream with `status`.
  void FinishAll(const absl::Status& status);
  // Waits until every stream is done (detached) or `timeout` passes; true
  // when none is left.
  bool WaitForStreamsDone(absl::Duration timeout);

  // Streams subscribed and not yet done.
  int stream_count() const;
  uint64_t subscribed_total() const;
  // Streams finished RESOURCE_EXHAUSTED for being too slow.
  uint64_t too_slow_total() const;
  // The most bytes any stream's queue has held.
  size_t max_queued_bytes() const;
  std::vector<StreamStats> Stats() const ABSL_LOCKS_EXCLUDED(mu_);

  const StreamOptions& options() const;
  uint32_t central_id() const { return central_id_; }

 private:
  void PumpLoop();

  ChangeLog& log_;
  const uint32_t central_id_;
  Clock& clock_;
  const std::shared_ptr<HubShared> shared_;

  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<HubStream>> streams_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;

  // Pump thread only.
  absl::Duration next_wake_ = absl::ZeroDuration();

  std::thread pump_;
  int listener_id_ = -1;
};

// The ChangeEvent sent to edges for one change-log entry (namespace entries
// carry the namespace id only, never the stored namespace).
kv::v1::ChangeEvent ToChangeEvent(const SequencedChange& change);

}  // namespace kv::central

#endif  // KV_CENTRAL_STREAM_HUB_H_
