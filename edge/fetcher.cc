#include "edge/fetcher.h"

#include "common/grpc_status.h"

namespace kv::edge {

CachedEntryRef EntryFromProto(absl::string_view cache_key, const kv::v1::Entry& e,
                              absl::Duration asked_at) {
  const Version version = Version::FromProto(e.version());
  if (!e.found()) return CachedEntryRef(CachedEntry::NewNotFound(cache_key, version, asked_at));
  return CachedEntryRef(CachedEntry::NewFound(
      cache_key, e.value(),
      e.has_metadata() ? std::optional<absl::string_view>(e.metadata()) : std::nullopt,
      e.expiration(), version, asked_at));
}

Fetcher::Fetcher(CentralPool& pool, LruCache& cache, Clock& clock,
                 RecentWrites* recent)
    : pool_(pool), cache_(cache), clock_(clock), recent_(recent) {}

bool Fetcher::OlderThanOwnWrite(const CachedEntry& entry) const {
  if (recent_ == nullptr) return false;
  std::optional<RecentWrites::Write> write = recent_->Lookup(entry.cache_key());
  return write && !RecentWrites::Satisfies(entry.found(), entry.version(), *write);
}

void Fetcher::ApplyInvalidation(absl::string_view cache_key,
                                absl::FunctionRef<void()> update_cache) {
  absl::MutexLock lock(&mu_);
  update_cache();
  auto it = in_flight_.find(cache_key);
  if (it != in_flight_.end()) it->second->superseded = true;
}

absl::StatusOr<std::vector<CachedEntryRef>> Fetcher::Fetch(
    absl::string_view namespace_id, const std::vector<std::string>& keys,
    absl::string_view authorization) {
  std::vector<std::shared_ptr<InFlight>> flights(keys.size());
  std::vector<size_t> mine;  // indexes of keys this call fetches
  std::vector<std::string> cache_keys(keys.size());
  {
    absl::MutexLock lock(&mu_);
    for (size_t i = 0; i < keys.size(); ++i) {
      cache_keys[i] = LruCache::CacheKey(namespace_id, keys[i]);
      auto [it, inserted] = in_flight_.try_emplace(cache_keys[i]);
      if (inserted) {
        it->second = std::make_shared<InFlight>();
        mine.push_back(i);
      }
      flights[i] = it->second;
    }
  }

  if (!mine.empty()) {
    kv::v1::GetRequest request;
    request.set_namespace_id(std::string(namespace_id));
    request.set_with_metadata(true);
    for (size_t i : mine) request.add_keys(keys[i]);
    kv::v1::GetResponse response;
    // The result is current as of when it was asked for, not when it came
    // back: a change missed in between is the stream's to report.
    const absl::Duration now = clock_.MonotonicNow();
    const grpc::Status status =
        pool_.Call(authorization, [&](kv::v1::Kv::Stub& stub, grpc::ClientContext& context) {
          return stub.Get(&context, request, &response);
        });
    for (size_t j = 0; j < mine.size(); ++j) {
      InFlight& flight = *flights[mine[j]];
      if (!status.ok()) {
        flight.status = FromGrpcStatus(status);
      } else if (j >= static_cast<size_t>(response.entries_size())) {
        flight.status = absl::InternalError("a central answered fewer entries than asked");
      } else {
        flight.result = EntryFromProto(cache_keys[mine[j]], response.entries(j), now);
      }
      {
        absl::MutexLock lock(&mu_);
        if (flight.status.ok() && !flight.superseded && !OlderThanOwnWrite(*flight.result)) {
          cache_.Insert(flight.result);
        }
        in_flight_.erase(cache_keys[mine[j]]);
      }
      flight.done.Notify();
    }
  }

  std::vector<CachedEntryRef> results(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    flights[i]->done.WaitForNotification();
    if (!flights[i]->status.ok()) return flights[i]->status;
    results[i] = flights[i]->result;
  }
  return results;
}

}  // namespace kv::edge
