// The gRPC entry points of KvService: each converts the call's context and
// the handler's status once (common/grpc_auth.h, common/grpc_status.h).
#include "central/kv_service.h"
#include "common/grpc_auth.h"
#include "common/grpc_status.h"

namespace kv::central {

grpc::Status KvService::CreateNamespace(grpc::ServerContext* context,
                            const kv::v1::CreateNamespaceRequest* request, kv::v1::Namespace* response) {
  return ToGrpcStatus(CreateNamespace(RequestContextOf(*context), request, response));
}

grpc::Status KvService::ListNamespaces(grpc::ServerContext* context,
                            const kv::v1::ListNamespacesRequest* request, kv::v1::ListNamespacesResponse* response) {
  return ToGrpcStatus(ListNamespaces(RequestContextOf(*context), request, response));
}

grpc::Status KvService::GetNamespace(grpc::ServerContext* context,
                            const kv::v1::GetNamespaceRequest* request, kv::v1::Namespace* response) {
  return ToGrpcStatus(GetNamespace(RequestContextOf(*context), request, response));
}

grpc::Status KvService::RenameNamespace(grpc::ServerContext* context,
                            const kv::v1::RenameNamespaceRequest* request, kv::v1::Namespace* response) {
  return ToGrpcStatus(RenameNamespace(RequestContextOf(*context), request, response));
}

grpc::Status KvService::DeleteNamespace(grpc::ServerContext* context,
                            const kv::v1::DeleteNamespaceRequest* request, kv::v1::DeleteNamespaceResponse* response) {
  return ToGrpcStatus(DeleteNamespace(RequestContextOf(*context), request, response));
}

grpc::Status KvService::Get(grpc::ServerContext* context,
                            const kv::v1::GetRequest* request, kv::v1::GetResponse* response) {
  return ToGrpcStatus(Get(RequestContextOf(*context), request, response));
}

grpc::Status KvService::Put(grpc::ServerContext* context,
                            const kv::v1::PutRequest* request, kv::v1::PutResponse* response) {
  return ToGrpcStatus(Put(RequestContextOf(*context), request, response));
}

grpc::Status KvService::Delete(grpc::ServerContext* context,
                            const kv::v1::DeleteRequest* request, kv::v1::DeleteResponse* response) {
  return ToGrpcStatus(Delete(RequestContextOf(*context), request, response));
}

grpc::Status KvService::List(grpc::ServerContext* context,
                            const kv::v1::ListRequest* request, kv::v1::ListResponse* response) {
  return ToGrpcStatus(List(RequestContextOf(*context), request, response));
}

grpc::Status KvService::BulkPut(grpc::ServerContext* context,
                            const kv::v1::BulkPutRequest* request, kv::v1::BulkPutResponse* response) {
  return ToGrpcStatus(BulkPut(RequestContextOf(*context), request, response));
}

grpc::Status KvService::BulkDelete(grpc::ServerContext* context,
                            const kv::v1::BulkDeleteRequest* request, kv::v1::BulkDeleteResponse* response) {
  return ToGrpcStatus(BulkDelete(RequestContextOf(*context), request, response));
}

}  // namespace kv::central
