#include "central/replicator.h"

#include <grpcpp/create_channel.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "central/holds_all_until_file.h"
#include "central/local_namespace_scope.h"
#include "central/relay_origins.h"
#include "common/clock.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "proto/replication.grpc.pb.h"
#include "common/tls.h"

namespace kv::central {

absl::StatusOr<std::unique_ptr<Replicator>> Replicator::Create(const ReplicatorOptions& options,
                                                               Storage& storage,
                                                               CentralMetrics* metrics) {
  std::unique_ptr<Replicator> r(new Replicator(options, storage, metrics));
  absl::StatusOr<std::unique_ptr<PeerSet>> peers =
      PeerSet::Create(options.node_id, options.peers, options.peers_file);
  if (!peers.ok()) return peers.status();
  r->peers_ = std::move(*peers);
  if (options.write_quorum != 0 && r->peers_->cluster_size() != 0 &&
      options.write_quorum > r->peers_->cluster_size()) {
    return absl::InvalidArgumentError(absl::StrCat("--write_quorum ", options.write_quorum,
                                                   " exceeds the ", r->peers_->cluster_size(),
                                                   " centrals of the membership"));
  }
  // No tombstone is purged before the first horizon is known.
  storage.SetTombstonePurgeHorizon(r->PurgeHorizon());
  Replicator* self = r.get();
  // Anti-entropy calls the peers as the streams do: same token, same TLS.
  AntiEntropyOptions anti_entropy = options.anti_entropy;
  if (!options.holds_all_until_path.empty()) {
    r->holds_all_until_kept_ = ReadHoldsAllUntil(options.holds_all_until_path);
    r->held_at_start_ = r->holds_all_until_kept_;
    LOG(INFO) << "this central last held every write as of "
              << (r->held_at_start_ == absl::InfinitePast() ? std::string("(unknown)")
                                                           : absl::FormatTime(r->held_at_start_));
  }
  // Anti-entropy brings the tombstones this central may have missed (after
  // a long absence or partition), however old: those since it last held
  // everything, give or take the commits in flight then and the clocks (as
  // for the purge horizon).
  anti_entropy.holds_all_until = [self] {
    return std::max(self->HoldsAllUntil(), self->held_at_start_);
  };
  anti_entropy.catch_up_margin = options.write_deadline + 2 * options.max_clock_offset;
  anti_entropy.token = options.peer_token;
  anti_entropy.credentials = options.peer_credentials;
  r->anti_entropy_ = std::make_unique<AntiEntropy>(
      anti_entropy, *r->peers_, storage.replica(),
      [self](uint32_t peer, uint64_t repaired, bool ok, absl::Time started) {
        if (ok) {
          absl::MutexLock lock(&self->mu_);
          auto it = self->pullers_.find(peer);
          if (it != self->pullers_.end()) it->second->OnRepaired(started);
        }
        if (self->metrics_ == nullptr) return;
        self->metrics_->AntiEntropyRounds(peer, ok).Increment();
        self->metrics_->AntiEntropyRepairs(peer).Increment(static_cast<double>(repaired));
        self->metrics_->AntiEntropySeconds(peer).Increment(
            absl::ToDoubleSeconds(absl::Now() - started));
      });
  return r;
}

Replicator::~Replicator() { Stop(); }

void Replicator::Start() {
  EnsurePullers();
  anti_entropy_->Start();
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
}

void Replicator::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (maintenance_.joinable()) maintenance_.join();
  if (anti_entropy_) anti_entropy_->Stop();
  std::map<uint32_t, std::unique_ptr<PeerPuller>> pullers;
  {
    absl::MutexLock lock(&mu_);
    pullers.swap(pullers_);
  }
  for (auto& [id, puller] : pullers) puller->Stop();
  tracker_.Shutdown();
}

size_t Replicator::WriteQuorum(size_t cluster_size) const {
  if (options_.write_quorum != 0) return std::min<size_t>(options_.write_quorum, cluster_size);
  return cluster_size / 2 + 1;
}

size_t Replicator::PeersNeededForQuorum() const {
  const size_t n = peers_->cluster_size();
  return n == 0 ? 0 : WriteQuorum(n) - 1;
}

void Replicator::AwaitQuorumAsync(uint64_t last_sequence, absl::Time committed_at,
                                  absl::AnyInvocable<void(absl::Status) &&> done) {
  const size_t n = peers_->cluster_size();
  if (n == 0) {
    std::move(done)(absl::UnavailableError(
        "the membership of this central is not known yet (its peers file has not been read); "
        "the write is stored here only and will be replicated; retry it"));
    return;
  }
  const size_t w = WriteQuorum(n);
  if (w <= 1) {
    std::move(done)(absl::OkStatus());
    return;
  }
  if (committed_at == absl::InfinitePast()) committed_at = RealClock::Get().TimeNow();
  // The wait is timed on the monotonic clock (RealClock may be skewed in
  // tests, and a wall-clock step would distort it).
  const auto waiting_since = std::chrono::steady_clock::now();
  tracker_.WaitAsync(
      last_sequence, w - 1, committed_at + options_.write_deadline,
      [this, n, w, waiting_since, done = std::move(done)](QuorumTracker::Outcome outcome,
                                                          size_t peers) mutable {
        if (outcome == QuorumTracker::Outcome::kReached) {
          if (metrics_ != nullptr) {
            metrics_->quorum_wait_seconds.Observe(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - waiting_since)
                    .count());
          }
          std::move(done)(absl::OkStatus());
          return;
        }
        if (metrics_ != nullptr) metrics_->quorum_failures.Increment();
        std::move(done)(absl::UnavailableError(absl::StrCat(
            "the write is durable on ", peers + 1, " of ", n,
            " centrals, fewer than the write quorum of ", w,
            outcome == QuorumTracker::Outcome::kDeadline
                ? absl::StrCat(", after ", absl::FormatDuration(options_.write_deadline))
                : std::string(" when this central began shutting down"),
            "; it stays and will be repaired; retry it or read it back later")));
      });
}

absl::Status Replicator::AwaitQuorum(uint64_t last_sequence, absl::Time committed_at) {
  absl::Notification answered;
  absl::Status result;
  AwaitQuorumAsync(last_sequence, committed_at, [&](absl::Status status) {
    result = std::move(status);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

absl::Time Replicator::CompleteAsOf() const {
  const absl::Time now = RealClock::Get().TimeNow();
  const size_t n = peers_->cluster_size();
  if (n == 0) return absl::InfinitePast();
  const size_t w = WriteQuorum(n);
  const size_t k = n - w;  // peers whose streams must be complete
  if (k == 0) return now;
  std::vector<absl::Time> complete;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, puller] : pullers_) complete.push_back(puller->state().complete_until);
  }
  if (complete.size() < k) return absl::InfinitePast();
  std::sort(complete.begin(), complete.end(), std::greater<>());
  return std::min(now, complete[k - 1]);
}

absl::Time Replicator::HoldsAllUntil() const {
  const absl::Time now = RealClock::Get().TimeNow();
  const size_t n = peers_->cluster_size();
  if (n == 0) return absl::InfinitePast();
  absl::Time holds = now;
  size_t streams = 0;
  absl::MutexLock lock(&mu_);
  for (const auto& [id, puller] : pullers_) {
    holds = std::min(holds, puller->state().complete_until);
    ++streams;
  }
  return streams + 1 < n ? absl::InfinitePast() : holds;
}

absl::Time Replicator::PurgeHorizon() const {
  const size_t n = peers_->cluster_size();
  if (n == 0) return absl::InfinitePast();
  if (n == 1) return absl::InfiniteFuture();
  absl::Time horizon = HoldsAllUntil();
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, puller] : pullers_) {
      horizon = std::min(horizon, puller->state().peer_holds_all_until);
    }
  }
  if (horizon == absl::InfinitePast()) return horizon;
  return horizon - options_.write_deadline - options_.max_clock_offset;
}

std::optional<absl::StatusOr<NamespaceInfo>> Replicator::Forward(const NamespaceOp& op) {
  if (LocalNamespaceScope::active()) return std::nullopt;
  const size_t n = peers_->cluster_size();
  if (n == 0) {
    return absl::StatusOr<NamespaceInfo>(absl::UnavailableError(
        "the membership of this central is not known yet; retry the namespace change"));
  }
  if (n == 1) return std::nullopt;
  uint32_t coordinator = options_.node_id;
  size_t connected = 1;  // this central
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, puller] : pullers_) {
      if (!puller->state().connected) continue;
      ++connected;
      coordinator = std::min(coordinator, id);
    }
  }
  const size_t majority = n / 2 + 1;
  if (connected < majority) {
    return absl::StatusOr<NamespaceInfo>(absl::UnavailableError(absl::StrCat(
        "namespace changes need a majority of centrals connected; this central reaches ",
        connected, " of ", n, "; retry on another central")));
  }
  if (coordinator == options_.node_id) return std::nullopt;

  using Request = kv::replication::v1::NamespaceOpRequest;
  Request request;
  request.set_op(op.kind == NamespaceOp::Kind::kCreate   ? Request::CREATE
                 : op.kind == NamespaceOp::Kind::kRename ? Request::RENAME
                                                         : Request::DELETE);
  request.set_account_id(op.account_id);
  request.set_namespace_id(op.namespace_id);
  request.set_title(op.title);
  auto stub = kv::replication::v1::Replication::NewStub(grpc::CreateChannel(
      peers_->AddressOf(coordinator), PeerCredentials(options_.peer_credentials)));
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + options_.write_deadline + absl::Seconds(2)));
  if (!options_.peer_token.empty()) context.AddMetadata("authorization", "Bearer " + options_.peer_token);
  kv::replication::v1::NamespaceOpResponse response;
  const grpc::Status status = stub->NamespaceOp(&context, request, &response);
  if (!status.ok()) {
    absl::Status error = FromGrpcStatus(status);
    if (absl::IsUnavailable(error) || absl::IsDeadlineExceeded(error)) {
      error = absl::UnavailableError(absl::StrCat("the namespace coordinator (central ",
                                                  coordinator, ") did not answer: ",
                                                  status.error_message(), "; retry"));
    }
    return absl::StatusOr<NamespaceInfo>(error);
  }
  const kv::storage::v1::StoredNamespace& row = response.row();
  NamespaceInfo info;
  info.id = row.id();
  info.account_id = row.account_id();
  info.title = row.title();
  info.version = Version::FromProto(row.version());
  if (!row.deleted()) {
    // Applied here at once (replication brings the same version later).
    kv::storage::v1::ChangeEntry entry;
    entry.set_kind(op.kind == NamespaceOp::Kind::kCreate
                       ? kv::storage::v1::ChangeEntry::NAMESPACE_CREATE
                       : kv::storage::v1::ChangeEntry::NAMESPACE_RENAME);
    entry.set_namespace_id(row.id());
    *entry.mutable_version() = row.version();
    entry.set_commit_time_ms(static_cast<int64_t>(info.version.physical_ms));
    entry.set_commit_time_us(static_cast<int64_t>(info.version.physical_ms) * 1000);
    kv::storage::v1::StoredNamespace value = row;
    value.clear_version();
    entry.set_value(value.SerializeAsString());
    std::vector<kv::storage::v1::ChangeEntry> entries;
    entries.push_back(std::move(entry));
    absl::StatusOr<size_t> applied =
        storage_.replica().Apply(std::move(entries), coordinator, std::nullopt);
    if (!applied.ok()) LOG(WARNING) << "applying a forwarded namespace change: " << applied.status();
  }
  return absl::StatusOr<NamespaceInfo>(std::move(info));
}

absl::Status Replicator::CheckClockForWrites() const {
  std::optional<absl::Duration> least_ahead;  // of the connected peers
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, puller] : pullers_) {
      const PeerPuller::State state = puller->state();
      if (!state.connected || !state.clock_known) continue;
      const absl::Duration ahead = -state.clock_offset;  // our clock minus the peer's
      if (!least_ahead || ahead < *least_ahead) least_ahead = ahead;
    }
  }
  if (!least_ahead || *least_ahead <= options_.max_clock_offset) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "this central's clock is ", absl::FormatDuration(absl::Trunc(*least_ahead, absl::Milliseconds(1))),
      " ahead of its peers' (maximum clock offset ", absl::FormatDuration(options_.max_clock_offset),
      "); it refuses writes until its clock is corrected; write through another central"));
}

void Replicator::EnsurePullers() {
  std::vector<Peer> peers = peers_->peers();
  absl::MutexLock lock(&mu_);
  for (const Peer& peer : peers) {
    if (pullers_.contains(peer.id)) continue;
    PeerPullerOptions options;
    options.self_id = options_.node_id;
    options.peer_id = peer.id;
    options.token = options_.peer_token;
    options.credentials = options_.peer_credentials;
    options.silence_timeout = options_.silence_timeout;
    options.max_clock_offset = options_.max_clock_offset;
    if (metrics_ != nullptr) {
      options.applies = &metrics_->ReplicationApplies(peer.id);
      options.entries = &metrics_->ReplicationEntries(peer.id);
      options.apply_seconds = &metrics_->ReplicationApplySeconds(peer.id);
    }
    options.holdings = [this](uint32_t for_peer) { return Holdings(for_peer); };
    options.on_applied = [this](uint32_t from) { OnApplied(from); };
    auto puller = std::make_unique<PeerPuller>(
        options, *peers_, storage_.replica(),
        [this](uint32_t peer_id) { anti_entropy_->RequestRound(peer_id); });
    puller->Start();
    pullers_.emplace(peer.id, std::move(puller));
  }
}

kv::replication::v1::PullHoldings Replicator::Holdings(uint32_t for_peer) const {
  kv::replication::v1::PullHoldings holdings;
  ChangeLog& log = storage_.change_log();
  if (!log.incarnation().empty() && log.LastSequence() > 0) {
    // From 1: trimmed entries were applied here too.
    *holdings.add_sources() = RelayOrigins::ToHoldings({.node_id = options_.node_id,
                                                        .incarnation = log.incarnation(),
                                                        .first_sequence = 1,
                                                        .last_sequence = log.LastSequence()});
  }
  absl::MutexLock lock(&mu_);
  for (const auto& [id, puller] : pullers_) {
    if (id == for_peer) continue;
    if (std::optional<kv::replication::v1::SourceHoldings> held = puller->Holdings())
      *holdings.add_sources() = std::move(*held);
  }
  return holdings;
}

void Replicator::OnApplied(uint32_t peer_id) {
  absl::MutexLock lock(&mu_);
  for (const auto& [id, puller] : pullers_) {
    if (id != peer_id) puller->HoldingsChanged();
  }
}

void Replicator::UpdateMetrics() {
  if (metrics_ == nullptr) return;
  const absl::Time now = RealClock::Get().TimeNow();
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, puller] : pullers_) {
      const PeerPuller::State state = puller->state();
      metrics_->ReplicationConnected(id).Set(state.connected ? 1 : 0);
      metrics_->ReplicationAppliedSequence(id).Set(static_cast<double>(state.applied_sequence));
      metrics_->ReplicationAckedSequence(id).Set(static_cast<double>(tracker_.Acked(id)));
      metrics_->PeerClockOffsetSeconds(id).Set(absl::ToDoubleSeconds(state.clock_offset));
      if (state.complete_until != absl::InfinitePast())
        metrics_->ReplicationLagSeconds(id).Set(absl::ToDoubleSeconds(now - state.complete_until));
    }
  }
  const absl::Time complete = CompleteAsOf();
  if (complete != absl::InfinitePast())
    metrics_->complete_as_of_age_seconds.Set(absl::ToDoubleSeconds(now - complete));
  const absl::Time horizon = PurgeHorizon();
  metrics_->tombstone_purge_horizon_age_seconds.Set(
      horizon == absl::InfinitePast()     ? -1
      : horizon == absl::InfiniteFuture() ? 0
                                          : absl::ToDoubleSeconds(now - horizon));
  metrics_->cluster_size.Set(static_cast<double>(peers_->cluster_size()));
  const uint64_t future = storage_.FutureVersions();
  if (future > future_versions_seen_) {
    metrics_->future_versions.Increment(static_cast<double>(future - future_versions_seen_));
    future_versions_seen_ = future;
  }
  metrics_->change_log_last_sequence.Set(static_cast<double>(storage_.change_log().LastSequence()));
  metrics_->change_log_first_sequence.Set(
      static_cast<double>(storage_.change_log().FirstSequence()));
}

void Replicator::MaintenanceLoop() {
  do {
    peers_->Reload();
    EnsurePullers();
    storage_.SetTombstonePurgeHorizon(PurgeHorizon());
    UpdateMetrics();
    KeepHoldsAllUntil();
  } while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(250)));
}

void Replicator::KeepHoldsAllUntil() {
  if (options_.holds_all_until_path.empty()) return;
  const absl::Time now = absl::Now();
  if (now - holds_all_until_written_at_ < absl::Seconds(1)) return;
  const absl::Time holds = HoldsAllUntil();
  if (holds == absl::InfinitePast() || holds <= holds_all_until_kept_) return;
  holds_all_until_written_at_ = now;
  if (absl::Status written = WriteHoldsAllUntil(options_.holds_all_until_path, holds);
      !written.ok()) {
    // Once: a central that cannot keep it only takes in more tombstones
    // after its next long absence.
    if (!holds_all_until_failed_) LOG(WARNING) << written << " (not repeated)";
    holds_all_until_failed_ = true;
    return;
  }
  holds_all_until_kept_ = holds;
}

}  // namespace kv::central
