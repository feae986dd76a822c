#include "central/pull_sender.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "common/clock.h"
#include "common/status_macros.h"
#include "prometheus/counter.h"

namespace kv::central {
namespace {

using kv::replication::v1::PullResponse;
using kv::storage::v1::ChangeEntry;

// The longest Run waits without checking `stop`.
constexpr absl::Duration kPollInterval = absl::Milliseconds(100);

}  // namespace

PullSender::PullSender(const PullSenderOptions& options, ChangeLog& log, ReplicaStore& replica,
                       QuorumTracker& tracker, uint64_t next)
    : options_(options),
      log_(log),
      replica_(replica),
      tracker_(tracker),
      next_(next),
      sent_through_(next - 1) {}

void PullSender::OnAck(uint64_t sequence) {
  uint64_t acked;
  {
    absl::MutexLock lock(&mu_);
    acked = std::min(sequence, sent_through_);
    const bool window_was_full = in_flight_.size() >= options_.batches_in_flight;
    while (!in_flight_.empty() && in_flight_.front() <= acked) in_flight_.pop_front();
    // Run only waits for acks when the window is full.
    if (window_was_full && in_flight_.size() < options_.batches_in_flight) ++events_;
  }
  tracker_.OnAck(options_.peer_id, acked);
}

void PullSender::OnHoldings(const kv::replication::v1::PullHoldings& holdings) {
  absl::MutexLock lock(&mu_);
  holdings_.clear();
  for (const auto& source : holdings.sources()) holdings_[source.node_id()] = source;
}

size_t PullSender::LeaveOutHeld() {
  if (options_.origins == nullptr) return 0;
  // Copied at the first relayed entry: a batch of this central's own writes
  // (the quorum peer's, every few writes) costs no copy.
  std::optional<absl::flat_hash_map<uint32_t, kv::replication::v1::SourceHoldings>> holdings;
  size_t left_out = 0;
  for (auto& replicated : *pending_.mutable_batch()->mutable_entries()) {
    ChangeEntry& entry = *replicated.mutable_entry();
    if (entry.kind() == ChangeEntry::NOOP) continue;
    if (entry.version().node_id() == options_.node_id) continue;  // our own write
    const std::optional<RelayOrigins::Source> source = options_.origins->Find(replicated.sequence());
    if (!source) continue;
    if (!holdings) {
      absl::MutexLock lock(&mu_);
      if (holdings_.empty()) return left_out;
      holdings = holdings_;
    }
    auto it = holdings->find(source->node_id);
    if (it == holdings->end() || !RelayOrigins::Covers(it->second, *source)) continue;
    entry.Clear();
    entry.set_kind(ChangeEntry::NOOP);
    ++left_out;
  }
  return left_out;
}

void PullSender::OnReaderDone() {
  absl::MutexLock lock(&mu_);
  reader_done_ = true;
  ++events_;
}

absl::Status PullSender::ReadPending(absl::Time now) {
  const size_t have = static_cast<size_t>(pending_.batch().entries_size());
  if (have >= options_.batch_entries || pending_bytes_ >= options_.batch_bytes) return absl::OkStatus();
  if (log_.LastSequence() < next_) return absl::OkStatus();
  KV_ASSIGN_OR_RETURN(std::vector<SequencedChange> entries,
                      log_.Read(next_, options_.batch_entries - have,
                                options_.batch_bytes - pending_bytes_));
  for (SequencedChange& change : entries) {
    if (pending_bytes_ >= options_.batch_bytes && pending_.batch().entries_size() > 0) break;
    // A client of this central may be waiting for the peer's ack of it.
    const bool own = change.entry.version().node_id() == options_.node_id;
    if (change.entry.version().node_id() == options_.peer_id) {
      // The peer accepted this write itself (durably, before anyone else
      // saw it): only the sequence needs to reach it.
      change.entry.Clear();
      change.entry.set_kind(ChangeEntry::NOOP);
    }
    KV_RETURN_IF_ERROR(replica_.FillFromStore(change.entry));
    if (pending_.batch().entries_size() == 0) pending_since_ = now;
    pending_own_ = pending_own_ || own;
    pending_bytes_ += change.entry.value().size() + change.entry.key().size();
    kv::replication::v1::ReplicatedEntry* out = pending_.mutable_batch()->add_entries();
    out->set_sequence(change.sequence);
    *out->mutable_entry() = std::move(change.entry);
    next_ = change.sequence + 1;
  }
  return absl::OkStatus();
}

bool PullSender::SendPending(Sink& sink) {
  const uint64_t last = pending_.batch().entries().rbegin()->sequence();
  const size_t left_out = LeaveOutHeld();
  if (left_out > 0 && options_.relays_left_out != nullptr)
    options_.relays_left_out->Increment(static_cast<double>(left_out));
  {
    absl::MutexLock lock(&mu_);
    sent_through_ = last;
    in_flight_.push_back(last);
  }
  const bool written = sink.Write(pending_);
  pending_.Clear();
  pending_bytes_ = 0;
  pending_own_ = false;
  return written;
}

uint64_t PullSender::settled_through() const {
  absl::MutexLock lock(&mu_);
  return settled_through_;
}

absl::Status PullSender::Run(Sink& sink, const std::function<bool()>& stop) {
  const int listener = log_.AddListener([this](uint64_t) {
    // Replicated applies commit in groups of their own, on the applying
    // thread, so this tells a group of replicated entries from local writes.
    const bool replicated = ReplicaStore::CommittingReplicated();
    absl::MutexLock lock(&mu_);
    ++(replicated ? relay_commits_ : own_commits_);
  });
  absl::Status result;
  absl::Time last_heartbeat = absl::InfinitePast();
  while (true) {
    if (stop()) {
      result = absl::UnavailableError("central shutting down");
      break;
    }
    uint64_t seen, seen_own, seen_relay;
    size_t flying;
    uint64_t sent_through;
    {
      absl::MutexLock lock(&mu_);
      if (reader_done_) {
        result = absl::CancelledError("peer went away");
        break;
      }
      seen = events_;
      seen_own = own_commits_;
      seen_relay = relay_commits_;
      flying = in_flight_.size();
      sent_through = sent_through_;
    }
    // Taken before the log is read: every entry published (made visible,
    // which precedes its acknowledgement) before `now` is seen by this read.
    const absl::Time now = RealClock::Get().TimeNow();
    const uint64_t visible = log_.LastSequence();
    if (absl::Status read = ReadPending(now); !read.ok()) {
      result = std::move(read);
      break;
    }
    const bool gathering = pending_.batch().entries_size() > 0;
    if (!gathering && next_ > visible) sent_as_of_ = now;
    const bool heartbeat_due = now - last_heartbeat >= options_.heartbeat_interval;
    const bool quorum_peer = !options_.quorum_peer || options_.quorum_peer();
    absl::Time wake = now + kPollInterval;
    bool sent = false;
    if (gathering) {
      const bool room = flying < options_.batches_in_flight;
      const bool full = static_cast<size_t>(pending_.batch().entries_size()) >=
                            options_.batch_entries ||
                        pending_bytes_ >= options_.batch_bytes;
      const absl::Duration linger = !pending_own_ ? options_.relay_linger
                                    : quorum_peer ? absl::ZeroDuration()
                                                  : options_.follower_linger;
      if (room && (full || heartbeat_due || now - pending_since_ >= linger)) {
        if (!SendPending(sink)) {
          result = absl::CancelledError("peer went away");
          break;
        }
        // More may be waiting in the log; but a due heartbeat goes first, so
        // a steady flow of entries cannot hold heartbeats back.
        if (!heartbeat_due) continue;
        sent = true;
      } else if (room) {
        wake = std::min(wake, pending_since_ + linger);
      }
    }
    if (heartbeat_due) {
      {
        absl::MutexLock lock(&mu_);
        sent_through = sent_through_;
      }
      // Everything up to sent_through has been written before it.
      PullResponse heartbeat;
      heartbeat.mutable_heartbeat()->set_head_sequence(sent_through);
      heartbeat.mutable_heartbeat()->set_time_us(absl::ToUnixMicros(now));
      // Never 0 (which means time_us): before the first catch-up, the
      // start of time.
      heartbeat.mutable_heartbeat()->set_sent_as_of_us(
          sent_as_of_ == absl::InfinitePast() ? 1 : absl::ToUnixMicros(sent_as_of_));
      if (options_.holds_all_until) {
        const absl::Time holds = options_.holds_all_until();
        if (holds != absl::InfinitePast())
          heartbeat.mutable_heartbeat()->set_holds_all_until_ms(absl::ToUnixMillis(holds));
      }
      if (!sink.Write(heartbeat)) {
        result = absl::CancelledError("peer went away");
        break;
      }
      last_heartbeat = now;
    }
    if (sent) continue;
    wake = std::min(wake, last_heartbeat + options_.heartbeat_interval);
    // Commits matter when nothing is gathering (a new batch starts), and
    // this central's own writes when they would make a gathering batch go
    // at once; otherwise the batch waits for its deadline or an ack.
    const bool wake_on_any_commit = !gathering;
    const bool wake_on_own_commit = !gathering || (!pending_own_ && quorum_peer);
    absl::MutexLock lock(&mu_);
    settled_through_ = next_ - 1;
    auto changed = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return events_ != seen || reader_done_ ||
             (wake_on_own_commit && own_commits_ != seen_own) ||
             (wake_on_any_commit && relay_commits_ != seen_relay);
    };
    mu_.AwaitWithTimeout(absl::Condition(&changed), std::max(wake - now, absl::ZeroDuration()));
  }
  log_.RemoveListener(listener);
  return result;
}

}  // namespace kv::central
