#ifndef KV_CENTRAL_KV_SERVICE_H_
#define KV_CENTRAL_KV_SERVICE_H_

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "central/storage.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/request_context.h"
#include "proto/kv.pb.h"

namespace kv::central {

// The client API (kv.v1.Kv) of a central, served from its Storage, for
// every transport (central/async_kv_server serves it over gRPC, the HTTP
// front ends call it in process).
// Every call is authenticated and authorized first, then every limit is
// checked before anything is written: a rejected request changes nothing.
// Thread-safe. The record writes have non-blocking forms (PutAsync...) that
// hand the write to the commit queue and report through a callback; the
// blocking forms wait for them. Every other handler blocks on Storage.
class KvService final {
 public:
  // Called once with the result of an asynchronous handler; the response
  // is filled when it is OK. Runs on the committing thread: must not block.
  using Done = absl::AnyInvocable<void(absl::Status) &&>;

  // All references must outlive the service.
  KvService(Storage& storage, const TokenAuthenticator& auth, const Limits& limits,
            Clock& clock);

  // The transport-neutral handlers, also called by the HTTP front ends.
  // Errors are the gRPC codes above, some with an HTTP detail
  // (common/error_space.h).
  absl::Status CreateNamespace(const RequestContext& context,
                               const kv::v1::CreateNamespaceRequest* request,
                               kv::v1::Namespace* response);
  absl::Status ListNamespaces(const RequestContext& context,
                              const kv::v1::ListNamespacesRequest* request,
                              kv::v1::ListNamespacesResponse* response);
  // The account the caller acts on when it names none (http::KvApi).
  absl::StatusOr<std::string> CallerAccount(const RequestContext& context) const;
  absl::Status GetNamespace(const RequestContext& context,
                            const kv::v1::GetNamespaceRequest* request,
                            kv::v1::Namespace* response);
  absl::Status RenameNamespace(const RequestContext& context,
                               const kv::v1::RenameNamespaceRequest* request,
                               kv::v1::Namespace* response);
  absl::Status DeleteNamespace(const RequestContext& context,
                               const kv::v1::DeleteNamespaceRequest* request,
                               kv::v1::DeleteNamespaceResponse* response);

  absl::Status Get(const RequestContext& context, const kv::v1::GetRequest* request,
                   kv::v1::GetResponse* response);
  absl::Status Put(const RequestContext& context, const kv::v1::PutRequest* request,
                   kv::v1::PutResponse* response);
  absl::Status Delete(const RequestContext& context, const kv::v1::DeleteRequest* request,
                      kv::v1::DeleteResponse* response);
  absl::Status List(const RequestContext& context, const kv::v1::ListRequest* request,
                    kv::v1::ListResponse* response);
  absl::Status BulkPut(const RequestContext& context, const kv::v1::BulkPutRequest* request,
                       kv::v1::BulkPutResponse* response);
  absl::Status BulkDelete(const RequestContext& context,
                          const kv::v1::BulkDeleteRequest* request,
                          kv::v1::BulkDeleteResponse* response);

  // The record writes without blocking on the commit (nor on the write
  // quorum): `done` gets what the blocking form would return, maybe before
  // the call returns. `request` and `response` must stay valid until then.
  // The caller's thread may commit a group of writes before returning (when
  // the commit queue is idle; see CommitQueue).
  void PutAsync(const RequestContext& context, const kv::v1::PutRequest* request,
                kv::v1::PutResponse* response, Done done);
  void DeleteAsync(const RequestContext& context, const kv::v1::DeleteRequest* request,
                   kv::v1::DeleteResponse* response, Done done);
  void BulkPutAsync(const RequestContext& context, const kv::v1::BulkPutRequest* request,
                    kv::v1::BulkPutResponse* response, Done done);
  void BulkDeleteAsync(const RequestContext& context, const kv::v1::BulkDeleteRequest* request,
                       kv::v1::BulkDeleteResponse* response, Done done);

  // From now on refuses new calls with UNAVAILABLE; waits until the calls
  // in flight have finished or `timeout` passes. True when none remain.
  bool Drain(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(drain_mu_);

 private:
  // Runs `body` (returning absl::Status) as one tracked call.
  template <typename Body>
  absl::Status Handle(Body body) ABSL_LOCKS_EXCLUDED(drain_mu_);
  // Starts a tracked call (UNAVAILABLE when draining) / ends one.
  absl::Status BeginCall() ABSL_LOCKS_EXCLUDED(drain_mu_);
  void EndCall() ABSL_LOCKS_EXCLUDED(drain_mu_);
  // Runs `start` (returning absl::Status; on OK it has handed `done` on)
  // as one tracked call that ends when `done` is called.
  template <typename Start>
  void HandleAsync(Done done, Start start) ABSL_LOCKS_EXCLUDED(drain_mu_);
  // Waits for an asynchronous handler.
  template <typename Start>
  static absl::Status Wait(Start start);

  // Authorizes the call and checks that the namespace exists in the
  // account. Returns the namespace id.
  absl::StatusOr<std::string> AuthorizeNamespace(const RequestContext& context,
                                                 const std::string& account_id,
                                                 const std::string& namespace_id,
                                                 Scope needed);
  // A validated put, its expiration resolved.
  static PutOp MakePutOp(const std::string& key, const std::string& value,
                         const std::string* metadata, int64_t expiration);

  Storage& storage_;
  const TokenAuthenticator& auth_;
  const Limits limits_;
  Clock& clock_;

  absl::Mutex drain_mu_;
  int in_flight_ ABSL_GUARDED_BY(drain_mu_) = 0;
  bool draining_ ABSL_GUARDED_BY(drain_mu_) = false;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_KV_SERVICE_H_
