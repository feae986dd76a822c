#include "edge/edge_kv_service.h"

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "common/error_space.h"
#include "common/grpc_auth.h"
#include "common/grpc_status.h"
#include "common/request_validation.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace kv::edge {
namespace {


}  // namespace

EdgeKvService::EdgeKvService(CentralPool& pool, LruCache& cache, Fetcher& fetcher,
                             RecentWrites& recent_writes, NamespaceDirectory& directory, StreamState& stream,
                             const TokenAuthenticator& auth, const Limits& limits,
                             absl::Duration window, EdgeMetrics& metrics, Clock& clock)
    : pool_(pool),
      cache_(cache),
      fetcher_(fetcher),
      recent_writes_(recent_writes),
      directory_(directory),
      stream_(stream),
      auth_(auth),
      limits_(limits),
      window_(window),
      metrics_(metrics),
      clock_(clock) {}

template <typename Request, typename Response, typename Method>
grpc::Status EdgeKvService::Forward(const RequestContext& context, const Request& request,
                                    Response* response, Method method) {
  return pool_.Call(context.authorization,
                    [&](kv::v1::Kv::Stub& stub, grpc::ClientContext& upstream) {
                      return (stub.*method)(&upstream, request, response);
                    });
}

absl::StatusOr<std::string> EdgeKvService::CallerAccount(const RequestContext& context) const {
  return AuthorizeCall(auth_, context, "", Scope::kRead);
}

absl::StatusOr<std::string> EdgeKvService::AuthorizeNamespace(
    const RequestContext& context, const std::string& account_id,
    const std::string& namespace_id, Scope needed) {
  KV_ASSIGN_OR_RETURN(std::string account, AuthorizeCall(auth_, context, account_id, needed));
  KV_RETURN_IF_ERROR(ValidateNamespaceId(namespace_id));
  KV_RETURN_IF_ERROR(directory_.Check(account, namespace_id, context.authorization));
  return account;
}

void EdgeKvService::DropKeys(const std::string& namespace_id,
                             const google::protobuf::RepeatedPtrField<std::string>& keys) {
  for (const std::string& key : keys) {
    const std::string cache_key = LruCache::CacheKey(namespace_id, key);
    fetcher_.ApplyInvalidation(cache_key, [&] { cache_.Invalidate(cache_key, Version{}); });
  }
}

// --- Namespaces: forwarded -------------------------------------------------

grpc::Status EdgeKvService::CreateNamespace(const RequestContext& context,
                                            const kv::v1::CreateNamespaceRequest* request,
                                            kv::v1::Namespace* response) {
  return Forward(context, *request, response, &kv::v1::Kv::Stub::CreateNamespace);
}

grpc::Status EdgeKvService::ListNamespaces(const RequestContext& context,
                                           const kv::v1::ListNamespacesRequest* request,
                                           kv::v1::ListNamespacesResponse* response) {
  return Forward(context, *request, response, &kv::v1::Kv::Stub::ListNamespaces);
}

grpc::Status EdgeKvService::GetNamespace(const RequestContext& context,
                                         const kv::v1::GetNamespaceRequest* request,
                                         kv::v1::Namespace* response) {
  return Forward(context, *request, response, &kv::v1::Kv::Stub::GetNamespace);
}

grpc::Status EdgeKvService::RenameNamespace(const RequestContext& context,
                                            const kv::v1::RenameNamespaceRequest* request,
                                            kv::v1::Namespace* response) {
  return Forward(context, *request, response, &kv::v1::Kv::Stub::RenameNamespace);
}

grpc::Status EdgeKvService::DeleteNamespace(const RequestContext& context,
                                            const kv::v1::DeleteNamespaceRequest* request,
                                            kv::v1::DeleteNamespaceResponse* response) {
  grpc::Status status =
      Forward(context, *request, response, &kv::v1::Kv::Stub::DeleteNamespace);
  if (status.ok()) {
    directory_.Forget(request->namespace_id());
    cache_.EraseNamespace(request->namespace_id());
  }
  return status;
}

grpc::Status EdgeKvService::List(const RequestContext& context, const kv::v1::ListRequest* request,
                                 kv::v1::ListResponse* response) {
  return Forward(context, *request, response, &kv::v1::Kv::Stub::List);
}

// --- Reads -----------------------------------------------------------------

bool EdgeKvService::Servable(const CachedEntry& entry, const kv::v1::GetRequest& request,
                             absl::Duration now, bool stream_fresh) const {
  if (!stream_fresh) return false;
  // Cached before a loss of continuity and not revalidated since.
  if (entry.cached_at() < stream_.distrusted_before()) return false;
  if (request.cache_ttl() > 0 && now - entry.cached_at() > absl::Seconds(request.cache_ttl())) {
    return false;
  }
  return !(entry.version() < Version::FromProto(request.min_version()));
}

absl::Status EdgeKvService::BuildGetResponse(const kv::v1::GetRequest& request,
                                             absl::Span<const CachedEntryRef> entries,
                                             kv::v1::GetResponse* response) const {
  const int64_t now_s = absl::ToUnixSeconds(clock_.TimeNow());
  size_t total_bytes = 0;
  const int n = request.keys_size();
  for (int i = 0; i < n; ++i) {
    kv::v1::Entry* out = response->add_entries();
    out->set_key(request.keys(i));
    const CachedEntry& e = *entries[i];
    if (!e.found() || (e.expiration() != 0 && now_s >= e.expiration())) continue;
    total_bytes += e.value().size();
    if (n > 1 && total_bytes > limits_.max_bulk_get_bytes) {
      response->Clear();
      return WithHttpDetail(
          absl::InvalidArgumentError(absl::StrCat("Total size of request exceeds the limit of ",
                                                  limits_.max_bulk_get_bytes >> 20, "MB")),
          413, kCfLimit);
    }
    out->set_found(true);
    out->set_value(e.value().data(), e.value().size());
    if (request.with_metadata() && e.has_metadata()) {
      out->set_metadata(e.metadata().data(), e.metadata().size());
    }
    out->set_expiration(e.expiration());
    e.version().ToProto(out->mutable_version());
  }
  return absl::OkStatus();
}

std::optional<grpc::Status> EdgeKvService::TryGetFromCache(const RequestContext& context,
                                                           const kv::v1::GetRequest& request,
                                                           kv::v1::GetResponse* response) {
  // Errors found here (auth, validation) are final; only "needs a central"
  // defers to GetBlocking.
  absl::StatusOr<std::string> account =
      AuthorizeCall(auth_, context, request.account_id(), Scope::kRead);
  if (!account.ok()) return ToGrpcStatus(account.status());
  if (absl::Status s = ValidateNamespaceId(request.namespace_id()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (absl::Status s = ValidateGet(request, limits_); !s.ok()) return ToGrpcStatus(s);
  std::optional<absl::Status> known = directory_.CheckKnown(*account, request.namespace_id());
  if (!known) return std::nullopt;
  if (!known->ok()) return ToGrpcStatus(*known);

  const absl::Duration now = clock_.MonotonicNow();
  const bool stream_fresh = stream_.Staleness() < window_;
  // No heap allocation here for the usual one short key.
  absl::InlinedVector<CachedEntryRef, 1> entries(request.keys_size());
  for (int i = 0; i < request.keys_size(); ++i) {
    entries[i] = cache_.Get(LruCache::KeyBuffer(request.namespace_id(), request.keys(i)).view());
    if (!entries[i] || !Servable(*entries[i], request, now, stream_fresh)) return std::nullopt;
  }
  metrics_.cache_hits.Increment(request.keys_size());
  response->set_cache_status("HIT");
  return ToGrpcStatus(BuildGetResponse(request, entries, response));
}

grpc::Status EdgeKvService::Get(const RequestContext& context,
                                const kv::v1::GetRequest* request_ptr,
                                kv::v1::GetResponse* response) {
  const kv::v1::GetRequest& request = *request_ptr;
  absl::Status status = [&]() -> absl::Status {
    KV_RETURN_IF_ERROR(AuthorizeNamespace(context, request.account_id(), request.namespace_id(),
                                          Scope::kRead)
                           .status());
    KV_RETURN_IF_ERROR(ValidateGet(request, limits_));
    const std::string& ns = request.namespace_id();
    const absl::Duration now = clock_.MonotonicNow();
    const bool stream_fresh = stream_.Staleness() < window_;

    const int n = request.keys_size();
    std::vector<CachedEntryRef> entries(n);
    std::vector<std::string> to_fetch;
    std::vector<int> fetch_index;
    size_t revalidations = 0;
    for (int i = 0; i < n; ++i) {
      CachedEntryRef e = cache_.Get(LruCache::CacheKey(ns, request.keys(i)));
      if (e && Servable(*e, request, now, stream_fresh)) {
        entries[i] = std::move(e);
        continue;
      }
      if (e) ++revalidations;
      to_fetch.push_back(request.keys(i));
      fetch_index.push_back(i);
    }
    if (!to_fetch.empty()) {
      absl::StatusOr<std::vector<CachedEntryRef>> fetched =
          fetcher_.Fetch(ns, to_fetch, context.authorization);
      if (!fetched.ok()) {
        if (fetched.status().code() == absl::StatusCode::kUnavailable) {
          metrics_.unavailable_reads.Increment();
          return absl::UnavailableError(absl::StrCat(
              "no central could confirm the cached data is within the ",
              absl::FormatDuration(window_), " window; retry later (",
              fetched.status().message(), ")"));
        }
        return fetched.status();
      }
      for (size_t j = 0; j < fetched->size(); ++j) {
        const int i = fetch_index[j];
        KV_ASSIGN_OR_RETURN(entries[i],
                            NewEnough(context, request, request.keys(i), (*fetched)[j]));
      }
    }
    metrics_.cache_hits.Increment(n - static_cast<double>(to_fetch.size()));
    metrics_.cache_revalidations.Increment(static_cast<double>(revalidations));
    metrics_.cache_misses.Increment(static_cast<double>(to_fetch.size() - revalidations));
    response->set_cache_status(to_fetch.empty()                       ? "HIT"
                               : revalidations == to_fetch.size() ? "REVALIDATED"
                                                                  : "MISS");
    return BuildGetResponse(request, entries, response);
  }();
  return ToGrpcStatus(status);
}

absl::StatusOr<CachedEntryRef> EdgeKvService::NewEnough(const RequestContext& context,
                                                        const kv::v1::GetRequest& request,
                                                        const std::string& key,
                                                        CachedEntryRef entry) {
  std::optional<RecentWrites::Write> need = recent_writes_.Lookup(entry->cache_key());
  const Version min_version = Version::FromProto(request.min_version());
  if (!min_version.IsZero() && (!need || need->version < min_version)) {
    need = RecentWrites::Write{min_version, /*deleted=*/false};
  }
  if (!need || RecentWrites::Satisfies(entry->found(), entry->version(), *need)) return entry;
  // The central that answered has not received it yet: ask each in turn.
  kv::v1::GetRequest one;
  one.set_namespace_id(request.namespace_id());
  one.add_keys(key);
  one.set_with_metadata(true);
  for (size_t c = 0; c < pool_.size(); ++c) {
    kv::v1::GetResponse response;
    const absl::Duration asked_at = clock_.MonotonicNow();
    const grpc::Status status = pool_.CallOne(
        c, context.authorization, [&](kv::v1::Kv::Stub& stub, grpc::ClientContext& upstream) {
          return stub.Get(&upstream, one, &response);
        });
    if (!status.ok() || response.entries_size() != 1) continue;
    const kv::v1::Entry& e = response.entries(0);
    if (RecentWrites::Satisfies(e.found(), Version::FromProto(e.version()), *need)) {
      // Not cached: an invalidation may have passed during this call.
      return EntryFromProto(entry->cache_key(), e, asked_at);
    }
  }
  metrics_.unavailable_reads.Increment();
  return absl::UnavailableError(absl::StrCat(
      "no central reachable from this edge holds version ", need->version.ToString(),
      " of this key yet (a write acknowledged through this edge, or the read's min_version); "
      "retry later"));
}

// --- Writes ----------------------------------------------------------------

grpc::Status EdgeKvService::Put(const RequestContext& context, const kv::v1::PutRequest* request,
                                kv::v1::PutResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    KV_RETURN_IF_ERROR(AuthorizeNamespace(context, request->account_id(),
                                          request->namespace_id(), Scope::kWrite)
                           .status());
    KV_RETURN_IF_ERROR(ValidatePut(*request, clock_.TimeNow(), limits_).status());
    KV_RETURN_IF_ERROR(
        FromGrpcStatus(Forward(context, *request, response, &kv::v1::Kv::Stub::Put)));
    const std::string cache_key = LruCache::CacheKey(request->namespace_id(), request->key());
    CachedEntryRef entry(CachedEntry::NewFound(
        cache_key, request->value(),
        request->has_metadata() ? std::optional<absl::string_view>(request->metadata())
                                : std::nullopt,
        response->expiration(), Version::FromProto(response->version()),
        clock_.MonotonicNow()));
    recent_writes_.Record(cache_key, entry->version(), /*deleted=*/false);
    fetcher_.ApplyInvalidation(cache_key, [&] { cache_.Insert(entry); });
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status EdgeKvService::Delete(const RequestContext& context,
                                   const kv::v1::DeleteRequest* request,
                                   kv::v1::DeleteResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    KV_RETURN_IF_ERROR(AuthorizeNamespace(context, request->account_id(),
                                          request->namespace_id(), Scope::kWrite)
                           .status());
    KV_RETURN_IF_ERROR(ValidateKey(request->key(), limits_));
    KV_RETURN_IF_ERROR(
        FromGrpcStatus(Forward(context, *request, response, &kv::v1::Kv::Stub::Delete)));
    const std::string cache_key = LruCache::CacheKey(request->namespace_id(), request->key());
    CachedEntryRef entry(CachedEntry::NewNotFound(
        cache_key, Version::FromProto(response->version()), clock_.MonotonicNow()));
    recent_writes_.Record(cache_key, entry->version(), /*deleted=*/true);
    fetcher_.ApplyInvalidation(cache_key, [&] { cache_.Insert(entry); });
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status EdgeKvService::BulkPut(const RequestContext& context,
                                    const kv::v1::BulkPutRequest* request,
                                    kv::v1::BulkPutResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    KV_RETURN_IF_ERROR(AuthorizeNamespace(context, request->account_id(),
                                          request->namespace_id(), Scope::kWrite)
                           .status());
    KV_RETURN_IF_ERROR(ValidateBulkPut(*request, clock_.TimeNow(), limits_).status());
    absl::Status s =
        FromGrpcStatus(Forward(context, *request, response, &kv::v1::Kv::Stub::BulkPut));
    // Whatever the outcome, what the edge held for these keys may be old.
    google::protobuf::RepeatedPtrField<std::string> keys;
    for (const kv::v1::BulkPutEntry& e : request->entries()) *keys.Add() = e.key();
    DropKeys(request->namespace_id(), keys);
    return s;
  }();
  return ToGrpcStatus(status);
}

grpc::Status EdgeKvService::BulkDelete(const RequestContext& context,
                                       const kv::v1::BulkDeleteRequest* request,
                                       kv::v1::BulkDeleteResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    KV_RETURN_IF_ERROR(AuthorizeNamespace(context, request->account_id(),
                                          request->namespace_id(), Scope::kWrite)
                           .status());
    KV_RETURN_IF_ERROR(ValidateBulkDelete(*request, limits_));
    absl::Status s =
        FromGrpcStatus(Forward(context, *request, response, &kv::v1::Kv::Stub::BulkDelete));
    DropKeys(request->namespace_id(), request->keys());
    return s;
  }();
  return ToGrpcStatus(status);
}

}  // namespace kv::edge
