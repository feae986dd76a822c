#include "central/peer_puller.h"

#include <grpcpp/create_channel.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/logging.h"
#include "proto/replication.grpc.pb.h"

namespace kv::central {
namespace {

using kv::replication::v1::PullRequest;
using kv::replication::v1::PullResponse;
using kv::storage::v1::ChangeEntry;

constexpr int kMaxMessageBytes = 128 << 20;
constexpr absl::Duration kMinBackoff = absl::Milliseconds(50);
constexpr absl::Duration kMaxBackoff = absl::Seconds(1);

}  // namespace

PeerPuller::PeerPuller(const PeerPullerOptions& options, const PeerSet& peers,
                       ReplicaStore& replica, std::function<void(uint32_t)> on_not_resumed)
    : options_(options), peers_(peers), replica_(replica),
      on_not_resumed_(std::move(on_not_resumed)) {}

PeerPuller::~PeerPuller() { Stop(); }

void PeerPuller::Start() { thread_ = std::thread([this] { Run(); }); }

void PeerPuller::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  {
    absl::MutexLock lock(&mu_);
    if (active_ != nullptr) active_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
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
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
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

  std::string why = "stream closed";
  while (stream->Read(&response)) {
    {
      absl::MutexLock lock(&mu_);
      last_message_ = absl::Now();
    }
    if (response.has_batch()) {
      auto* entries = response.mutable_batch()->mutable_entries();
      if (entries->empty()) continue;
      if (entries->begin()->sequence() != expected) {
        why = absl::StrCat("gap: expected sequence ", expected, ", got ",
                           entries->begin()->sequence());
        break;
      }
      std::vector<ChangeEntry> batch;
      batch.reserve(entries->size());
      uint64_t last = expected - 1;
      bool contiguous = true;
      for (auto& replicated : *entries) {
        if (replicated.sequence() != last + 1) contiguous = false;
        last = replicated.sequence();
        batch.push_back(std::move(*replicated.mutable_entry()));
      }
      if (!contiguous) {
        why = "gap inside a batch";
        break;
      }
      absl::StatusOr<size_t> applied =
          replica_.Apply(std::move(batch), options_.peer_id, PeerProgress{incarnation, last});
      if (!applied.ok()) {
        why = absl::StrCat("apply failed: ", applied.status().ToString());
        break;
      }
      expected = last + 1;
      {
        absl::MutexLock lock(&mu_);
        state_.applied_sequence = last;
      }
      PullRequest ack;
      ack.mutable_ack()->set_sequence(last);
      if (!stream->Write(ack)) break;
    } else if (response.has_heartbeat()) {
      const auto& heartbeat = response.heartbeat();
      const absl::Time now = RealClock::Get().TimeNow();
      const absl::Time peer_time = absl::FromUnixMicros(heartbeat.time_us());
      absl::MutexLock lock(&mu_);
      state_.clock_offset = peer_time - now;
      state_.clock_known = true;
      state_.peer_holds_all_until =
          heartbeat.holds_all_until_ms() > 0
              ? absl::FromUnixMillis(heartbeat.holds_all_until_ms()) - options_.max_clock_offset
              : absl::InfinitePast();
      if (heartbeat.head_sequence() + 1 <= expected && !state_.repair_needed) {
        // Everything the peer had applied when it sent this is applied here.
        state_.complete_until =
            std::max(state_.complete_until, std::min(now, peer_time - options_.max_clock_offset));
      }
    }
  }
  context.TryCancel();
  grpc::Status status = stream->Finish();
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED)
    why = status.error_message();
  finish(why);
}

}  // namespace kv::central
