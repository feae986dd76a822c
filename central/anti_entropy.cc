#include "central/anti_entropy.h"

#include <grpcpp/create_channel.h>

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/version.h"
#include "proto/replication.grpc.pb.h"
#include "common/tls.h"

namespace kv::central {
namespace {

using kv::replication::v1::BucketKeysRequest;
using kv::replication::v1::BucketKeysResponse;
using kv::replication::v1::DigestRequest;
using kv::replication::v1::DigestResponse;
using kv::replication::v1::FetchRequest;
using kv::replication::v1::FetchResponse;
using kv::storage::v1::ChangeEntry;

constexpr int kMaxMessageBytes = 128 << 20;
// Keys fetched per Fetch call.
constexpr size_t kFetchChunk = 256;

absl::Status FromGrpc(const grpc::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(what, ": ", status.error_message()));
}

}  // namespace

AntiEntropy::AntiEntropy(const AntiEntropyOptions& options, const PeerSet& peers,
                         ReplicaStore& replica, RoundCallback on_round)
    : options_(options), peers_(peers), replica_(replica), on_round_(std::move(on_round)) {}

AntiEntropy::~AntiEntropy() { Stop(); }

void AntiEntropy::Start() { thread_ = std::thread([this] { Run(); }); }

void AntiEntropy::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void AntiEntropy::RequestRound(uint32_t peer_id) {
  absl::MutexLock lock(&mu_);
  requested_.insert(peer_id);
}

void AntiEntropy::Run() {
  absl::Time next_full = absl::Now() + options_.interval;
  while (true) {
    std::vector<uint32_t> due;
    bool periodic = false;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stop_ || !requested_.empty();
      };
      mu_.AwaitWithDeadline(absl::Condition(&wake), next_full);
      if (stop_) return;
      if (absl::Now() >= next_full) {
        for (const Peer& peer : peers_.peers()) due.push_back(peer.id);
        periodic = true;
        requested_.clear();
      } else {
        due.assign(requested_.begin(), requested_.end());
        requested_.clear();
      }
    }
    const absl::Time batch_started = absl::Now();
    // One request and one local digest for every peer of the batch: a
    // digest that went stale meanwhile (repairs from an earlier peer) only
    // makes a later round list a bucket that no longer differs, never miss
    // one it lacks, since rounds only pull.
    const DigestRequest request = NewDigestRequest();
    std::optional<DigestResponse> local;
    for (uint32_t peer_id : due) {
      const std::string address = peers_.AddressOf(peer_id);
      if (address.empty()) continue;
      const absl::Time started = absl::Now();
      absl::StatusOr<uint64_t> repaired;
      if (!local) {
        absl::StatusOr<DigestResponse> digests = replica_.Digests(request);
        if (digests.ok()) {
          local = *std::move(digests);
        } else {
          repaired = digests.status();
        }
      }
      if (local) repaired = RunRound(peer_id, address, request, *local);
      if (!repaired.ok()) {
        VLOG(1) << "anti-entropy with node " << peer_id << ": " << repaired.status();
      } else if (*repaired > 0) {
        LOG(INFO) << "anti-entropy with node " << peer_id << " repaired " << *repaired
                  << " records";
      }
      if (on_round_) on_round_(peer_id, repaired.ok() ? *repaired : 0, repaired.ok(), started);
    }
    if (periodic) {
      // Periodic rounds take at most max_busy of the time: a store large
      // enough for a round to take long gets rounds further apart.
      const absl::Duration busy = absl::Now() - batch_started;
      const absl::Duration wait = PeriodicWait(options_.interval, busy, options_.max_busy);
      if (wait > options_.interval) {
        LOG(INFO) << "anti-entropy rounds took " << busy << "; the next periodic ones in "
                  << wait << " (--anti_entropy_max_busy " << options_.max_busy << ")";
      }
      next_full = absl::Now() + wait;
    }
  }
}

absl::Duration AntiEntropy::PeriodicWait(absl::Duration interval, absl::Duration busy,
                                         double max_busy) {
  if (!(max_busy > 0 && max_busy < 1)) return interval;
  return std::max(interval, busy * ((1 - max_busy) / max_busy));
}

DigestRequest AntiEntropy::NewDigestRequest() const {
  const absl::Time now = RealClock::Get().TimeNow();
  const absl::Duration margin = std::min(options_.tombstone_grace / 10, absl::Hours(1));
  DigestRequest request;
  request.set_buckets(options_.buckets);
  // Records that expired a minute ago are gone on both sides or about to be.
  request.set_expired_before(absl::ToUnixSeconds(now - absl::Minutes(1)));
  int64_t tombstones_before_ms = absl::ToUnixMillis(now - options_.tombstone_grace + margin);
  if (options_.holds_all_until) {
    const absl::Time held = options_.holds_all_until();
    tombstones_before_ms =
        held == absl::InfinitePast()
            ? 0
            : std::min(tombstones_before_ms,
                       absl::ToUnixMillis(held - options_.catch_up_margin));
  }
  request.set_tombstones_before_ms(tombstones_before_ms);
  return request;
}

absl::StatusOr<uint64_t> AntiEntropy::RunRound(uint32_t peer_id, const std::string& address,
                                               const DigestRequest& request,
                                               const DigestResponse& local) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  auto stub = kv::replication::v1::Replication::NewStub(
      grpc::CreateCustomChannel(address, PeerCredentials(options_.credentials), args));
  const absl::Time now = RealClock::Get().TimeNow();

  DigestResponse remote;
  {
    std::unique_ptr<grpc::ClientContext> context = NewContext();
    KV_RETURN_IF_ERROR(FromGrpc(stub->Digests(context.get(), request, &remote), "Digests"));
  }
  uint64_t repaired = 0;
  // Namespaces first: records of a namespace this side has not seen yet
  // still apply, but a newer namespace delete must win.
  {
    absl::flat_hash_map<std::string, Version> mine;
    for (const auto& row : local.namespace_rows())
      mine[row.id()] = Version::FromProto(row.version());
    std::vector<ChangeEntry> entries;
    for (const auto& row : remote.namespace_rows()) {
      auto it = mine.find(row.id());
      const Version theirs = Version::FromProto(row.version());
      if (it != mine.end() && it->second >= theirs) continue;
      ChangeEntry& entry = entries.emplace_back();
      entry.set_kind(row.deleted() ? ChangeEntry::NAMESPACE_DELETE : ChangeEntry::NAMESPACE_CREATE);
      entry.set_namespace_id(row.id());
      *entry.mutable_version() = row.version();
      entry.set_commit_time_ms(static_cast<int64_t>(theirs.physical_ms));
      entry.set_commit_time_us(absl::ToUnixMicros(now));
      kv::storage::v1::StoredNamespace value = row;
      value.clear_version();
      value.clear_deleted();
      entry.set_value(value.SerializeAsString());
    }
    if (!entries.empty()) {
      absl::StatusOr<size_t> applied = replica_.Apply(std::move(entries), peer_id, std::nullopt);
      if (!applied.ok()) return applied.status();
      repaired += *applied;
    }
  }

  absl::flat_hash_map<std::string, const kv::replication::v1::NamespaceDigest*> mine;
  for (const auto& digest : local.namespaces()) mine[digest.namespace_id()] = &digest;
  for (const auto& theirs : remote.namespaces()) {
    auto it = mine.find(theirs.namespace_id());
    BucketKeysRequest keys_request;
    keys_request.set_namespace_id(theirs.namespace_id());
    keys_request.set_buckets(options_.buckets);
    keys_request.set_expired_before(request.expired_before());
    keys_request.set_tombstones_before_ms(request.tombstones_before_ms());
    for (uint32_t bucket = 0; bucket < options_.buckets; ++bucket) {
      const uint64_t their_hash = bucket < static_cast<uint32_t>(theirs.bucket_hashes_size())
                                      ? theirs.bucket_hashes(static_cast<int>(bucket))
                                      : 0;
      const uint64_t my_hash =
          it != mine.end() && bucket < static_cast<uint32_t>(it->second->bucket_hashes_size())
              ? it->second->bucket_hashes(static_cast<int>(bucket))
              : 0;
      if (their_hash != my_hash) keys_request.add_bucket_set(bucket);
    }
    if (keys_request.bucket_set_size() == 0) continue;
    KV_ASSIGN_OR_RETURN(uint64_t fixed, RepairBuckets(*stub, peer_id, keys_request));
    repaired += fixed;
  }
  return repaired;
}

absl::StatusOr<uint64_t> AntiEntropy::RepairBuckets(kv::replication::v1::Replication::Stub& stub,
                                                    uint32_t peer_id,
                                                    BucketKeysRequest request) {
  uint64_t repaired = 0;
  request.set_bucket(request.bucket_set(0));
  request.set_max_keys(options_.keys_per_page);
  while (true) {
    BucketKeysResponse their_keys;
    {
      std::unique_ptr<grpc::ClientContext> context = NewContext();
      KV_RETURN_IF_ERROR(
          FromGrpc(stub.BucketKeys(context.get(), request, &their_keys), "BucketKeys"));
    }
    if (!their_keys.paged()) {
      // A central that predates paging answered `bucket` alone, whole: ask
      // it bucket by bucket.
      BucketKeysRequest single = request;
      single.clear_bucket_set();
      single.clear_max_keys();
      for (int i = 0; i < request.bucket_set_size(); ++i) {
        single.set_bucket(request.bucket_set(i));
        if (i > 0) {
          std::unique_ptr<grpc::ClientContext> context = NewContext();
          KV_RETURN_IF_ERROR(
              FromGrpc(stub.BucketKeys(context.get(), single, &their_keys), "BucketKeys"));
        }
        KV_ASSIGN_OR_RETURN(uint64_t fixed, FetchNewer(stub, peer_id, single, their_keys));
        repaired += fixed;
      }
      return repaired;
    }
    // This side's keys of the same range: up to the page's last key.
    BucketKeysRequest mine = request;
    mine.clear_max_keys();
    if (!their_keys.complete() && their_keys.keys_size() > 0)
      mine.set_until(their_keys.keys(their_keys.keys_size() - 1).key());
    KV_ASSIGN_OR_RETURN(uint64_t fixed, FetchNewer(stub, peer_id, mine, their_keys));
    repaired += fixed;
    if (their_keys.complete() || their_keys.keys_size() == 0) return repaired;
    request.set_start_after(their_keys.keys(their_keys.keys_size() - 1).key());
  }
}

absl::StatusOr<uint64_t> AntiEntropy::FetchNewer(kv::replication::v1::Replication::Stub& stub,
                                                 uint32_t peer_id, const BucketKeysRequest& range,
                                                 const BucketKeysResponse& their_keys) {
  absl::StatusOr<BucketKeysResponse> my_keys = replica_.BucketKeys(range);
  if (!my_keys.ok()) return my_keys.status();
  absl::flat_hash_map<std::string, Version> have;
  for (const auto& kv : my_keys->keys()) have[kv.key()] = Version::FromProto(kv.version());
  std::vector<std::string> wanted;
  for (const auto& kv : their_keys.keys()) {
    auto h = have.find(kv.key());
    if (h == have.end() || h->second < Version::FromProto(kv.version())) wanted.push_back(kv.key());
  }
  uint64_t repaired = 0;
  for (size_t i = 0; i < wanted.size(); i += kFetchChunk) {
    FetchRequest fetch;
    fetch.set_namespace_id(range.namespace_id());
    for (size_t j = i; j < std::min(wanted.size(), i + kFetchChunk); ++j) fetch.add_keys(wanted[j]);
    FetchResponse fetched;
    {
      std::unique_ptr<grpc::ClientContext> context = NewContext();
      KV_RETURN_IF_ERROR(FromGrpc(stub.Fetch(context.get(), fetch, &fetched), "Fetch"));
    }
    std::vector<ChangeEntry> entries(std::make_move_iterator(fetched.mutable_entries()->begin()),
                                     std::make_move_iterator(fetched.mutable_entries()->end()));
    absl::StatusOr<size_t> applied = replica_.Apply(std::move(entries), peer_id, std::nullopt);
    if (!applied.ok()) return applied.status();
    repaired += *applied;
  }
  return repaired;
}

std::unique_ptr<grpc::ClientContext> AntiEntropy::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
  return context;
}

}  // namespace kv::central
