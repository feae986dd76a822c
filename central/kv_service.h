#ifndef KV_CENTRAL_KV_SERVICE_H_
#define KV_CENTRAL_KV_SERVICE_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "central/storage.h"
#include "common/auth.h"
#include "common/clock.h"
#include "common/limits.h"
#include "common/request_context.h"
#include "proto/kv.grpc.pb.h"

namespace kv::central {

// The client API (kv.v1.Kv) of a central, served from its Storage.
// Every call is authenticated and authorized first, then every limit is
// checked before anything is written: a rejected request changes nothing.
// Thread-safe; handlers block on Storage (sync gRPC server threads, HTTP
// worker threads).
class KvService final : public kv::v1::Kv::Service {
 public:
  // All references must outlive the service.
  KvService(Storage& storage, const TokenAuthenticator& auth, const Limits& limits,
            Clock& clock);

  // gRPC entry points (kv_service_grpc.cc): each converts its context and
  // status and calls the transport-neutral handler below.
  grpc::Status CreateNamespace(grpc::ServerContext* context,
                               const kv::v1::CreateNamespaceRequest* request,
                               kv::v1::Namespace* response) override;
  grpc::Status ListNamespaces(grpc::ServerContext* context,
                              const kv::v1::ListNamespacesRequest* request,
                              kv::v1::ListNamespacesResponse* response) override;
  grpc::Status GetNamespace(grpc::ServerContext* context,
                            const kv::v1::GetNamespaceRequest* request,
                            kv::v1::Namespace* response) override;
  grpc::Status RenameNamespace(grpc::ServerContext* context,
                               const kv::v1::RenameNamespaceRequest* request,
                               kv::v1::Namespace* response) override;
  grpc::Status DeleteNamespace(grpc::ServerContext* context,
                               const kv::v1::DeleteNamespaceRequest* request,
                               kv::v1::DeleteNamespaceResponse* response) override;

  grpc::Status Get(grpc::ServerContext* context, const kv::v1::GetRequest* request,
                   kv::v1::GetResponse* response) override;
  grpc::Status Put(grpc::ServerContext* context, const kv::v1::PutRequest* request,
                   kv::v1::PutResponse* response) override;
  grpc::Status Delete(grpc::ServerContext* context, const kv::v1::DeleteRequest* request,
                      kv::v1::DeleteResponse* response) override;
  grpc::Status List(grpc::ServerContext* context, const kv::v1::ListRequest* request,
                    kv::v1::ListResponse* response) override;
  grpc::Status BulkPut(grpc::ServerContext* context, const kv::v1::BulkPutRequest* request,
                       kv::v1::BulkPutResponse* response) override;
  grpc::Status BulkDelete(grpc::ServerContext* context,
                          const kv::v1::BulkDeleteRequest* request,
                          kv::v1::BulkDeleteResponse* response) override;

  // The transport-neutral handlers, also called by the HTTP front ends.
  // Errors are the gRPC codes above, some with an HTTP detail
  // (common/error_space.h).
  absl::Status CreateNamespace(const RequestContext& context,
                               const kv::v1::CreateNamespaceRequest* request,
                               kv::v1::Namespace* response);
  absl::Status ListNamespaces(const RequestContext& context,
                              const kv::v1::ListNamespacesRequest* request,
                              kv::v1::ListNamespacesResponse* response);
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

  // From now on refuses new calls with UNAVAILABLE; waits until the calls
  // in flight have finished or `timeout` passes. True when none remain.
  bool Drain(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(drain_mu_);

 private:
  // Runs `body` (returning absl::Status) as one tracked call.
  template <typename Body>
  absl::Status Handle(Body body) ABSL_LOCKS_EXCLUDED(drain_mu_);

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
