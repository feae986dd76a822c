#ifndef KV_CENTRAL_CENTRAL_KV_API_H_
#define KV_CENTRAL_CENTRAL_KV_API_H_

#include "central/kv_service.h"
#include "common/http/kv_api.h"

namespace kv::central {

// The central's client API as the HTTP front ends call it: KvService's
// transport-neutral handlers, in process (no gRPC hop). Thread-safe; the
// service must outlive it.
class CentralKvApi final : public http::KvApi {
 public:
  explicit CentralKvApi(KvService& service) : service_(service) {}

  absl::Status CreateNamespace(const RequestContext& c, const kv::v1::CreateNamespaceRequest& r,
                               kv::v1::Namespace* out) override {
    return service_.CreateNamespace(c, &r, out);
  }
  absl::Status ListNamespaces(const RequestContext& c, const kv::v1::ListNamespacesRequest& r,
                              kv::v1::ListNamespacesResponse* out) override {
    return service_.ListNamespaces(c, &r, out);
  }
  absl::Status GetNamespace(const RequestContext& c, const kv::v1::GetNamespaceRequest& r,
                            kv::v1::Namespace* out) override {
    return service_.GetNamespace(c, &r, out);
  }
  absl::Status RenameNamespace(const RequestContext& c, const kv::v1::RenameNamespaceRequest& r,
                               kv::v1::Namespace* out) override {
    return service_.RenameNamespace(c, &r, out);
  }
  absl::Status DeleteNamespace(const RequestContext& c, const kv::v1::DeleteNamespaceRequest& r,
                               kv::v1::DeleteNamespaceResponse* out) override {
    return service_.DeleteNamespace(c, &r, out);
  }
  absl::Status Get(const RequestContext& c, const kv::v1::GetRequest& r,
                   kv::v1::GetResponse* out) override {
    return service_.Get(c, &r, out);
  }
  absl::Status Put(const RequestContext& c, const kv::v1::PutRequest& r,
                   kv::v1::PutResponse* out) override {
    return service_.Put(c, &r, out);
  }
  absl::Status Delete(const RequestContext& c, const kv::v1::DeleteRequest& r,
                      kv::v1::DeleteResponse* out) override {
    return service_.Delete(c, &r, out);
  }
  absl::Status List(const RequestContext& c, const kv::v1::ListRequest& r,
                    kv::v1::ListResponse* out) override {
    return service_.List(c, &r, out);
  }
  absl::Status BulkPut(const RequestContext& c, const kv::v1::BulkPutRequest& r,
                       kv::v1::BulkPutResponse* out) override {
    return service_.BulkPut(c, &r, out);
  }
  absl::Status BulkDelete(const RequestContext& c, const kv::v1::BulkDeleteRequest& r,
                          kv::v1::BulkDeleteResponse* out) override {
    return service_.BulkDelete(c, &r, out);
  }
  absl::StatusOr<std::string> CallerAccount(const RequestContext& c) override {
    return service_.CallerAccount(c);
  }

 private:
  KvService& service_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_CENTRAL_KV_API_H_
