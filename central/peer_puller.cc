#include "central/peer_puller.h"

#include <grpcpp/create_channel.h>
#include <prometheus/counter.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "central/pull_inbox.h"
#include "central/relay_origins.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/thread_pool.h"
#include "proto/replication.grpc.pb.h"
#include "common/tls.h"

namespace kv::central {
namespace {

using kv::replication::v1::PullRequest;
using kv::replication::v1::PullResponse;
using kv::storage::v1::ChangeEntry;

constexpr int kMaxMessageBytes = 128 << 20;
constexpr absl::Duration kMinBackoff = absl::Milliseconds(50);
constexpr absl::Duration kMaxBackoff = absl::Seconds(1);
// Bytes of received messages waiting for the applier; past it the reader
// stops reading (gRPC flow control then holds the source back).
constexpr size_t kMaxInboxBytes = size_t{64} << 20;
// How often an idle applier checks for Stop.
constexpr absl::Duration kPollInterval = absl::Milliseconds(100);
// PullHoldings go at most this often: well within the source's relay
// linger (20 ms), so what arrived here directly is known there before it
// would relay it.
constexpr absl::Duration kHoldingsInterval = absl::Milliseconds(5);

}  // namespace

PeerPuller::PeerPuller(const PeerPullerOptions& options, const PeerSet& peers,
                       ReplicaStore& replica, std::function<void(uint32_t)> on_not_resumed)
    : options_(options), peers_(peers), replica_(replica),
      on_not_resumed_(std::move(on_not_resumed)) {}

PeerPuller::~PeerPuller() { Stop(); }

void PeerPuller::Start() {
  thread_ = std::thread([this] {
    NameThisThread("kv-pull-read");
    Run();
  });
}

void PeerPuller::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  {
    absl::MutexLock lock(&mu_);
    if (active_ != nullptr) active_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

std::optional<kv::replication::v1::SourceHoldings> PeerPuller::Holdings() const {
  absl::MutexLock lock(&mu_);
  if (!state_.connected || incarnation_.empty() || first_sequence_ == 0 ||
      state_.applied_sequence < first_sequence_)
    return std::nullopt;
  return RelayOrigins::ToHoldings({.node_id = options_.peer_id,
                                   .incarnation = incarnation_,
                                   .first_sequence = first_sequence_,
                                   .last_sequence = state_.applied_sequence});
}

void PeerPuller::HoldingsChanged() {
  absl::MutexLock lock(&mu_);
  holdings_changed_ = true;
  // Within an interval of the last report the applier is awake at its end
  // anyway (it checks once more after each report): no wake-up needed.
  if (active_inbox_ != nullptr && !holdings_nudged_ &&
      absl::Now() - holdings_sent_ >= kHoldingsInterval) {
    holdings_nudged_ = true;
    active_inbox_->Nudge();
  }
}

PeerPuller::State PeerPuller::state() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

void PeerPuller::OnRepaired(absl::Time started) {
  absl::MutexLock lock(&mu_);
  if (state_.repair_needed && started >= state_.repair_needed_since) state_.repair_needed = false;
}

void PeerPuller::Run() {
  absl::Duration backoff = kMinBackoff;
  while (!stop_.HasBeenNotified()) {
    const std::string address = peers_.AddressOf(options_.peer_id);
    if (!address.empty()) {
      const absl::Time started = absl::Now();
      PullOnce(address);
      if (absl::Now() - started > absl::Seconds(5)) backoff = kMinBackoff;
    }
    if (stop_.WaitForNotificationWithTimeout(backoff)) break;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

void PeerPuller::PullOnce(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  // A fresh connection per stream: a cut stream does not wait on a stale one.
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(address, PeerCredentials(options_.credentials), args);
  auto stub = kv::replication::v1::Replication::NewStub(channel);
  grpc::ClientContext context;
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
  {
    absl::MutexLock lock(&mu_);
    if (stop_.HasBeenNotified()) return;
    active_ = &context;
    last_message_ = absl::Now();
  }
  // Cuts a silent stream (a peer behind a blackhole keeps the TCP
  // connection open and sends nothing).
  absl::Notification done;
  std::thread watchdog([&] {
    NameThisThread("kv-pull-watch");
    while (!done.WaitForNotificationWithTimeout(absl::Milliseconds(100))) {
      absl::MutexLock lock(&mu_);
      if (absl::Now() - last_message_ > options_.silence_timeout) {
        context.TryCancel();
        break;
      }
    }
  });
  auto finish = [&](absl::string_view why) {
    done.Notify();
    watchdog.join();
    absl::MutexLock lock(&mu_);
    active_ = nullptr;
    if (state_.connected) {
      LOG(WARNING) << "replication from node " << options_.peer_id << " (" << address
                   << ") ended: " << why;
    }
    state_.connected = false;
  };

  std::unique_ptr<grpc::ClientReaderWriter<PullRequest, PullResponse>> stream =
      stub->Pull(&context);
  absl::StatusOr<PeerProgress> progress = replica_.GetPeerProgress(options_.peer_id);
  if (!progress.ok()) {
    LOG(ERROR) << "replication from node " << options_.peer_id << ": " << progress.status();
    context.TryCancel();
    stream->Finish().IgnoreError();
    finish("progress unreadable");
    return;
  }
  PullRequest start;
  start.mutable_start()->set_node_id(options_.self_id);
  start.mutable_start()->set_incarnation(progress->incarnation);
  start.mutable_start()->set_after_sequence(progress->sequence);
  PullResponse response;
  if (!stream->Write(start) || !stream->Read(&response) || !response.has_hello()) {
    grpc::Status status = stream->Finish();
    finish(status.error_message().empty() ? "no hello" : status.error_message());
    return;
  }
  const auto& hello = response.hello();
  if (hello.node_id() != options_.peer_id) {
    LOG(ERROR) << address << " answers as node " << hello.node_id() << ", expected node "
               << options_.peer_id << "; check the peers list";
    context.TryCancel();
    stream->Finish().IgnoreError();
    finish("wrong node");
    return;
  }
  std::string incarnation = hello.incarnation();
  uint64_t expected = hello.start_sequence();
  {
    absl::MutexLock lock(&mu_);
    state_.connected = true;
    state_.clock_known = false;
    last_message_ = absl::Now();
    incarnation_ = incarnation;
    first_sequence_ = expected;
    holdings_changed_ = true;  // the peer learns what we hold of the others
    holdings_nudged_ = false;
    holdings_sent_ = absl::InfinitePast();
    if (!hello.resumed()) {
      state_.applied_sequence = expected - 1;
      state_.repair_needed = true;
      state_.repair_needed_since = absl::Now();
    }
  }
  LOG(INFO) << "replication from node " << options_.peer_id << " (" << address
            << ") connected at sequence " << expected << (hello.resumed() ? "" : " (not resumed)");
  if (!hello.resumed()) {
    // Record the new position first, so a restart does not ask again for a
    // point the peer cannot serve; anti-entropy repairs what lies before it.
    absl::StatusOr<size_t> saved =
        replica_.Apply({}, options_.peer_id, PeerProgress{incarnation, expected - 1});
    if (!saved.ok()) LOG(ERROR) << "cannot record replication progress: " << saved.status();
    if (on_not_resumed_) on_not_resumed_(options_.peer_id);
  }

  // This thread reads and queues; an applier thread applies whatever has
  // arrived in one durable batch, acks it, and then takes the heartbeats
  // that arrived with it (see ApplyLoop).
  PullInbox inbox(kMaxInboxBytes);
  {
    absl::MutexLock lock(&mu_);
    active_inbox_ = &inbox;
  }
  std::thread applier([&] {
    NameThisThread("kv-pull-apply");
    ApplyLoop(inbox, incarnation, expected,
              [&](const PullRequest& request) { return stream->Write(request); });
    context.TryCancel();  // ends the reader when the applier stopped first
  });
  uint64_t received_through = expected - 1;
  while (stream->Read(&response)) {
    const absl::Time now = RealClock::Get().TimeNow();
    {
      absl::MutexLock lock(&mu_);
      last_message_ = absl::Now();
    }
    if (response.has_batch()) {
      const auto& entries = response.batch().entries();
      if (entries.empty()) continue;
      const uint64_t wanted = received_through + 1;
      bool contiguous = true;
      for (const auto& replicated : entries) {
        if (replicated.sequence() != received_through + 1) {
          contiguous = false;
          break;
        }
        received_through = replicated.sequence();
      }
      if (!contiguous) {
        inbox.Fail(absl::StrCat("gap: expected sequence ", wanted, " onwards, got ",
                                entries.begin()->sequence(), "..", entries.rbegin()->sequence()));
        break;
      }
    } else if (response.has_heartbeat()) {
      const absl::Time peer_time = absl::FromUnixMicros(response.heartbeat().time_us());
      absl::MutexLock lock(&mu_);
      state_.clock_offset = peer_time - now;
      state_.clock_known = true;
      state_.peer_holds_all_until =
          response.heartbeat().holds_all_until_ms() > 0
              ? absl::FromUnixMillis(response.heartbeat().holds_all_until_ms()) -
                    options_.max_clock_offset
              : absl::InfinitePast();
    } else {
      continue;
    }
    if (!inbox.Push(std::move(response), now)) break;  // the applier stopped
    response.Clear();
  }
  inbox.Close();
  applier.join();
  {
    absl::MutexLock lock(&mu_);
    active_inbox_ = nullptr;
    incarnation_.clear();
    first_sequence_ = 0;
  }
  std::string why = inbox.why();
  if (why.empty()) why = "stream closed";
  context.TryCancel();
  grpc::Status status = stream->Finish();
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED)
    why = status.error_message();
  finish(why);
}

void PeerPuller::ApplyLoop(PullInbox& inbox, const std::string& incarnation, uint64_t expected,
                           const std::function<bool(const PullRequest& request)>& send) {
  absl::Duration wait = kPollInterval;
  while (true) {
    std::optional<std::vector<PullInbox::Received>> taken = inbox.TakeAll(wait);
    if (!taken) return;
    if (stop_.HasBeenNotified()) {
      inbox.Fail("stopping");
      return;
    }
    // Every batch that arrived goes into one apply (one WAL sync).
    std::vector<ChangeEntry> batch;
    uint64_t last = expected - 1;
    for (PullInbox::Received& received : *taken) {
      if (!received.message.has_batch()) continue;
      for (auto& replicated : *received.message.mutable_batch()->mutable_entries()) {
        last = replicated.sequence();  // contiguous: the reader checked
        batch.push_back(std::move(*replicated.mutable_entry()));
      }
    }
    if (!batch.empty()) {
      const size_t received_entries = batch.size();
      const absl::Time apply_start = absl::Now();
      absl::StatusOr<size_t> applied =
          replica_.Apply(std::move(batch), options_.peer_id, PeerProgress{incarnation, last},
                         /*first_sequence=*/expected);
      if (options_.applies != nullptr) options_.applies->Increment();
      if (options_.entries != nullptr)
        options_.entries->Increment(static_cast<double>(received_entries));
      if (options_.apply_seconds != nullptr)
        options_.apply_seconds->Increment(absl::ToDoubleSeconds(absl::Now() - apply_start));
      if (!applied.ok()) {
        inbox.Fail(absl::StrCat("apply failed: ", applied.status().ToString()));
        return;
      }
      expected = last + 1;
      {
        absl::MutexLock lock(&mu_);
        state_.applied_sequence = last;
      }
      PullRequest ack;
      ack.mutable_ack()->set_sequence(last);
      if (!send(ack)) {
        inbox.Fail("ack not sent");
        return;
      }
      if (options_.on_applied) options_.on_applied(options_.peer_id);
    }
    // A heartbeat says everything up to its head was sent before it, so
    // after this apply everything up to it is applied here.
    for (const PullInbox::Received& received : *taken) {
      if (!received.message.has_heartbeat()) continue;
      const auto& heartbeat = received.message.heartbeat();
      // Everything the peer had applied before this time is at or before
      // the head.
      const absl::Time peer_time = absl::FromUnixMicros(
          heartbeat.sent_as_of_us() != 0 ? heartbeat.sent_as_of_us() : heartbeat.time_us());
      absl::MutexLock lock(&mu_);
      if (heartbeat.head_sequence() + 1 <= expected && !state_.repair_needed) {
        state_.complete_until = std::max(
            state_.complete_until,
            std::min(received.received_at, peer_time - options_.max_clock_offset));
      }
    }
    wait = kPollInterval;
    if (!options_.holdings) continue;
    // At most one report per interval; after one, a check at the end of
    // the interval sends what changed meanwhile (HoldingsChanged does not
    // wake this thread within it).
    const absl::Time now = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      if (!holdings_changed_) continue;
      if (now - holdings_sent_ < kHoldingsInterval) {
        wait = holdings_sent_ + kHoldingsInterval - now;
        continue;
      }
      holdings_changed_ = false;
      holdings_nudged_ = false;
      holdings_sent_ = now;
    }
    PullRequest request;
    *request.mutable_holdings() = options_.holdings(options_.peer_id);
    if (!send(request)) {
      inbox.Fail("holdings not sent");
      return;
    }
    wait = kHoldingsInterval;
  }
}

}  // namespace kv::central
