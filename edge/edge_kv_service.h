#ifndef KV_EDGE_EDGE_KV_SERVICE_H_
#define KV_EDGE_EDGE_KV_SERVICE_H_

#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/request_context.h"
#include "edge/central_pool.h"
#include "edge/edge_metrics.h"
#include "edge/fetcher.h"
#include "edge/lru_cache.h"
#include "edge/namespace_directory.h"
#include "edge/stream_state.h"
#include "proto/kv.grpc.pb.h"

namespace kv::edge {

// The client API (kv.v1.Kv) of an edge. Reads are served from the cache
// while the invalidation stream proves it current within `window` (and the
// read's cache_ttl allows); otherwise they are revalidated with a central,
// and when no central answers the read fails with UNAVAILABLE rather than
// return data older than the window. Writes are checked here, forwarded to
// a central and, once acknowledged, refresh the edge's own entry; their
// versions are kept for the window (RecentWrites), so a read through this
// edge returns its own write or newer even after the entry was evicted,
// whichever central answers (read-your-writes). A read's min_version is
// honoured per key the same way. Namespace operations and lists are forwarded.
// Thread-safe; handlers block on upstream calls (sync server threads).
//
// The handlers of the kv.v1.Kv methods; AsyncKvServer serves them. A Get
// the cache can answer is answered without blocking (TryGetFromCache); every
// other handler may block on a central.
class EdgeKvService final {
 public:
  // All references must outlive the service.
  EdgeKvService(CentralPool& pool, LruCache& cache, Fetcher& fetcher,
                RecentWrites& recent_writes, NamespaceDirectory& directory, StreamState& stream,
                const TokenAuthenticator& auth, const Limits& limits, absl::Duration window,
                EdgeMetrics& metrics, Clock& clock);

  grpc::Status CreateNamespace(const RequestContext& context,
                               const kv::v1::CreateNamespaceRequest* request,
                               kv::v1::Namespace* response);
  grpc::Status ListNamespaces(const RequestContext& context,
                              const kv::v1::ListNamespacesRequest* request,
                              kv::v1::ListNamespacesResponse* response);
  // The account the caller acts on when it names none (http::KvApi),
  // checked here without asking a central.
  absl::StatusOr<std::string> CallerAccount(const RequestContext& context) const;
  grpc::Status GetNamespace(const RequestContext& context,
                            const kv::v1::GetNamespaceRequest* request,
                            kv::v1::Namespace* response);
  grpc::Status RenameNamespace(const RequestContext& context,
                               const kv::v1::RenameNamespaceRequest* request,
                               kv::v1::Namespace* response);
  grpc::Status DeleteNamespace(const RequestContext& context,
                               const kv::v1::DeleteNamespaceRequest* request,
                               kv::v1::DeleteNamespaceResponse* response);
  // The whole read; may block on a central.
  grpc::Status Get(const RequestContext& context, const kv::v1::GetRequest* request,
                   kv::v1::GetResponse* response);
  // The read from the cache alone, when every key is cached and servable
  // and the namespace known; nullopt (response untouched) when it needs a
  // central. Never blocks.
  std::optional<grpc::Status> TryGetFromCache(const RequestContext& context,
                                              const kv::v1::GetRequest& request,
                                              kv::v1::GetResponse* response);
  grpc::Status Put(const RequestContext& context, const kv::v1::PutRequest* request,
                   kv::v1::PutResponse* response);
  grpc::Status Delete(const RequestContext& context, const kv::v1::DeleteRequest* request,
                      kv::v1::DeleteResponse* response);
  grpc::Status List(const RequestContext& context, const kv::v1::ListRequest* request,
                    kv::v1::ListResponse* response);
  grpc::Status BulkPut(const RequestContext& context, const kv::v1::BulkPutRequest* request,
                       kv::v1::BulkPutResponse* response);
  grpc::Status BulkDelete(const RequestContext& context,
                          const kv::v1::BulkDeleteRequest* request,
                          kv::v1::BulkDeleteResponse* response);

 private:
  // Authorizes the call for the namespace's account and checks the
  // namespace exists there. Returns the account.
  absl::StatusOr<std::string> AuthorizeNamespace(const RequestContext& context,
                                                 const std::string& account_id,
                                                 const std::string& namespace_id,
                                                 Scope needed);
  // Forwards a call to a central with the caller's credentials.
  template <typename Request, typename Response, typename Method>
  grpc::Status Forward(const RequestContext& context, const Request& request,
                       Response* response, Method method);
  // Whether a cached entry may answer `request` without a central.
  bool Servable(const CachedEntry& entry, const kv::v1::GetRequest& request,
                absl::Duration now, bool stream_fresh) const;
  // Fills the response from resolved entries (one per key, in order).
  absl::Status BuildGetResponse(const kv::v1::GetRequest& request,
                                absl::Span<const CachedEntryRef> entries,
                                kv::v1::GetResponse* response) const;
  // `entry` (fetched for `key`) when it is at least as new as this edge's
  // own recent write of the key and the read's min_version; else the first
  // central's answer that is; UNAVAILABLE when no central holds it yet.
  absl::StatusOr<CachedEntryRef> NewEnough(const RequestContext& context,
                                           const kv::v1::GetRequest& request,
                                           const std::string& key, CachedEntryRef entry);
  // Drops `keys` from the cache after a bulk write.
  void DropKeys(const std::string& namespace_id,
                const google::protobuf::RepeatedPtrField<std::string>& keys);

  CentralPool& pool_;
  LruCache& cache_;
  Fetcher& fetcher_;
  RecentWrites& recent_writes_;
  NamespaceDirectory& directory_;
  StreamState& stream_;
  const TokenAuthenticator& auth_;
  const Limits limits_;
  const absl::Duration window_;
  EdgeMetrics& metrics_;
  Clock& clock_;
};

}  // namespace kv::edge

#endif  // KV_EDGE_EDGE_KV_SERVICE_H_
