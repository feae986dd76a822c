#ifndef KV_EDGE_EDGE_KV_API_H_
#define KV_EDGE_EDGE_KV_API_H_

#include "common/grpc_status.h"
#include "edge/edge_kv_service.h"
#include "common/http/kv_api.h"

namespace kv::edge {

// The edge's client API as the HTTP front ends call it: EdgeKvService's
// handlers in process (cache reads, writes forwarded to a central), with
// TryGetFromCache for reads answered without blocking. Thread-safe; the
// service must outlive it.
class EdgeKvApi final : public http::KvApi {
 public:
  explicit EdgeKvApi(EdgeKvService& service) : service_(service) {}

  absl::Status CreateNamespace(const RequestContext& c, const kv::v1::CreateNamespaceRequest& r,
                               kv::v1::Namespace* out) override {
    return FromGrpcStatus(service_.CreateNamespace(c, &r, out));
  }
  absl::Status ListNamespaces(const RequestContext& c, const kv::v1::ListNamespacesRequest& r,
                              kv::v1::ListNamespacesResponse* out) override {
    return FromGrpcStatus(service_.ListNamespaces(c, &r, out));
  }
  absl::Status GetNamespace(const RequestContext& c, const kv::v1::GetNamespaceRequest& r,
                            kv::v1::Namespace* out) override {
    return FromGrpcStatus(service_.GetNamespace(c, &r, out));
  }
  absl::Status RenameNamespace(const RequestContext& c, const kv::v1::RenameNamespaceRequest& r,
                               kv::v1::Namespace* out) override {
    return FromGrpcStatus(service_.RenameNamespace(c, &r, out));
  }
  absl::Status DeleteNamespace(const RequestContext& c, const kv::v1::DeleteNamespaceRequest& r,
                               kv::v1::DeleteNamespaceResponse* out) override {
    return FromGrpcStatus(service_.DeleteNamespace(c, &r, out));
  }
  absl::Status Get(const RequestContext& c, const kv::v1::GetRequest& r,
                   kv::v1::GetResponse* out) override {
    return FromGrpcStatus(service_.Get(c, &r, out));
  }
  std::optional<absl::Status> TryGetFromCache(const RequestContext& c,
                                              const kv::v1::GetRequest& r,
                                              kv::v1::GetResponse* out) override {
    std::optional<grpc::Status> status = service_.TryGetFromCache(c, r, out);
    if (!status) return std::nullopt;
    return FromGrpcStatus(*status);
  }
  absl::Status Put(const RequestContext& c, const kv::v1::PutRequest& r,
                   kv::v1::PutResponse* out) override {
    return FromGrpcStatus(service_.Put(c, &r, out));
  }
  absl::Status Delete(const RequestContext& c, const kv::v1::DeleteRequest& r,
                      kv::v1::DeleteResponse* out) override {
    return FromGrpcStatus(service_.Delete(c, &r, out));
  }
  absl::Status List(const RequestContext& c, const kv::v1::ListRequest& r,
                    kv::v1::ListResponse* out) override {
    return FromGrpcStatus(service_.List(c, &r, out));
  }
  absl::Status BulkPut(const RequestContext& c, const kv::v1::BulkPutRequest& r,
                       kv::v1::BulkPutResponse* out) override {
    return FromGrpcStatus(service_.BulkPut(c, &r, out));
  }
  absl::Status BulkDelete(const RequestContext& c, const kv::v1::BulkDeleteRequest& r,
                          kv::v1::BulkDeleteResponse* out) override {
    return FromGrpcStatus(service_.BulkDelete(c, &r, out));
  }
  absl::StatusOr<std::string> CallerAccount(const RequestContext& c) override {
    return service_.CallerAccount(c);
  }

 private:
  EdgeKvService& service_;
};

}  // namespace kv::edge

#endif  // KV_EDGE_EDGE_KV_API_H_
