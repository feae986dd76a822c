#ifndef KV_COMMON_HTTP_KV_API_H_
#define KV_COMMON_HTTP_KV_API_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/request_context.h"
#include "proto/kv.pb.h"

namespace kv::http {

// The client API as the HTTP front ends (REST, workerd) call it, in the
// gRPC API's messages: a central implements it with its KvService, an edge
// with its EdgeKvService (cache reads, forwarded writes). Errors are the
// gRPC API's codes, with an HTTP detail where one is finer
// (common/error_space.h). Implementations are thread-safe; every method
// but TryGetFromCache may block.
class KvApi {
 public:
  virtual ~KvApi() = default;

  virtual absl::Status CreateNamespace(const RequestContext& context,
                                       const kv::v1::CreateNamespaceRequest& request,
                                       kv::v1::Namespace* response) = 0;
  virtual absl::Status ListNamespaces(const RequestContext& context,
                                      const kv::v1::ListNamespacesRequest& request,
                                      kv::v1::ListNamespacesResponse* response) = 0;
  virtual absl::Status GetNamespace(const RequestContext& context,
                                    const kv::v1::GetNamespaceRequest& request,
                                    kv::v1::Namespace* response) = 0;
  virtual absl::Status RenameNamespace(const RequestContext& context,
                                       const kv::v1::RenameNamespaceRequest& request,
                                       kv::v1::Namespace* response) = 0;
  virtual absl::Status DeleteNamespace(const RequestContext& context,
                                       const kv::v1::DeleteNamespaceRequest& request,
                                       kv::v1::DeleteNamespaceResponse* response) = 0;
  virtual absl::Status Get(const RequestContext& context, const kv::v1::GetRequest& request,
                           kv::v1::GetResponse* response) = 0;
  // The read from memory alone, never blocking; nullopt (response
  // untouched) when it needs Get. Default: always nullopt.
  virtual std::optional<absl::Status> TryGetFromCache(const RequestContext& context,
                                                      const kv::v1::GetRequest& request,
                                                      kv::v1::GetResponse* response) {
    return std::nullopt;
  }
  virtual absl::Status Put(const RequestContext& context, const kv::v1::PutRequest& request,
                           kv::v1::PutResponse* response) = 0;
  virtual absl::Status Delete(const RequestContext& context,
                              const kv::v1::DeleteRequest& request,
                              kv::v1::DeleteResponse* response) = 0;
  virtual absl::Status List(const RequestContext& context, const kv::v1::ListRequest& request,
                            kv::v1::ListResponse* response) = 0;
  virtual absl::Status BulkPut(const RequestContext& context,
                               const kv::v1::BulkPutRequest& request,
                               kv::v1::BulkPutResponse* response) = 0;
  virtual absl::Status BulkDelete(const RequestContext& context,
                                  const kv::v1::BulkDeleteRequest& request,
                                  kv::v1::BulkDeleteResponse* response) = 0;
  // The account a caller acts on when it names none: its token's (a read
  // or write token), or in dev mode the node's default account.
  // UNAUTHENTICATED or PERMISSION_DENIED (an edge token) otherwise.
  virtual absl::StatusOr<std::string> CallerAccount(const RequestContext& context) = 0;
};

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_KV_API_H_
