#include "central/kv_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/error_space.h"
#include "common/grpc_auth.h"
#include "common/request_validation.h"
#include "common/status_macros.h"
#include "common/validation.h"

namespace kv::central {
namespace {

void ToProto(const NamespaceInfo& info, kv::v1::Namespace* out) {
  out->set_id(info.id);
  out->set_title(info.title);
  out->set_supports_url_encoding(true);
}

}  // namespace

absl::Status KvService::BeginCall() {
  absl::MutexLock lock(&drain_mu_);
  if (draining_) {
    return absl::UnavailableError("this node is shutting down; retry on another node");
  }
  ++in_flight_;
  return absl::OkStatus();
}

void KvService::EndCall() {
  absl::MutexLock lock(&drain_mu_);
  --in_flight_;
}

template <typename Body>
absl::Status KvService::Handle(Body body) {
  KV_RETURN_IF_ERROR(BeginCall());
  absl::Status status = body();
  EndCall();
  return status;
}

template <typename Start>
void KvService::HandleAsync(Done done, Start start) {
  if (absl::Status s = BeginCall(); !s.ok()) return std::move(done)(std::move(s));
  // The call ends once answered, so Drain() returns only after every answer.
  Done tracked = [this, done = std::move(done)](absl::Status s) mutable {
    std::move(done)(std::move(s));
    EndCall();
  };
  // `start` hands `tracked` on only when it returns OK.
  absl::Status s = start(tracked);
  if (!s.ok()) std::move(tracked)(std::move(s));
}

template <typename Start>
absl::Status KvService::Wait(Start start) {
  absl::Notification answered;
  absl::Status result;
  start([&](absl::Status s) {
    result = std::move(s);
    answered.Notify();
  });
  answered.WaitForNotification();
  return result;
}

bool KvService::Drain(absl::Duration timeout) {
  absl::MutexLock lock(&drain_mu_);
  draining_ = true;
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(drain_mu_) { return in_flight_ == 0; };
  return drain_mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

KvService::KvService(Storage& storage, const TokenAuthenticator& auth,
                     const Limits& limits, Clock& clock)
    : storage_(storage), auth_(auth), limits_(limits), clock_(clock) {}

absl::StatusOr<std::string> KvService::CallerAccount(const RequestContext& context) const {
  return AuthorizeCall(auth_, context, "", Scope::kRead);
}

absl::StatusOr<std::string> KvService::AuthorizeNamespace(
    const RequestContext& context, const std::string& account_id,
    const std::string& namespace_id, Scope needed) {
  KV_ASSIGN_OR_RETURN(std::string account, AuthorizeCall(auth_, context, account_id, needed));
  KV_RETURN_IF_ERROR(ValidateNamespaceId(namespace_id));
  KV_ASSIGN_OR_RETURN(NamespaceInfo info, storage_.GetNamespace(account, namespace_id));
  return info.id;
}

PutOp KvService::MakePutOp(const std::string& key, const std::string& value,
                          const std::string* metadata, int64_t expiration) {
  PutOp op;
  op.key = key;
  op.value = value;
  if (metadata != nullptr) op.metadata = *metadata;
  op.expiration = expiration;
  return op;
}

// --- Namespaces ------------------------------------------------------------

absl::Status KvService::CreateNamespace(const RequestContext& context,
                                        const kv::v1::CreateNamespaceRequest* request,
                                        kv::v1::Namespace* response) {
  return Handle([&]() -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string account, AuthorizeCall(auth_, context,
                                                           request->account_id(), Scope::kWrite));
    KV_RETURN_IF_ERROR(ValidateNamespaceTitle(request->title(), limits_));
    KV_ASSIGN_OR_RETURN(NamespaceInfo info, storage_.CreateNamespace(account, request->title()));
    ToProto(info, response);
    return absl::OkStatus();
  });
}

absl::Status KvService::ListNamespaces(const RequestContext& context,
                                       const kv::v1::ListNamespacesRequest* request,
                                       kv::v1::ListNamespacesResponse* response) {
  return Handle([&]() -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string account, AuthorizeCall(auth_, context,
                                                           request->account_id(), Scope::kRead));
    const uint32_t page = request->page() == 0 ? 1 : request->page();
    const uint32_t per_page = request->per_page() == 0 ? 20 : request->per_page();
    if (per_page > 1000) {
      return WithHttpDetail(
          absl::InvalidArgumentError(absl::StrCat("Invalid per_page of ", per_page,
                                                  ". Please specify an integer from 1 to 1000.")),
          400, kCfBadRequest);
    }
    KV_ASSIGN_OR_RETURN(std::vector<NamespaceInfo> all, storage_.ListNamespaces(account));
    if (request->order() == kv::v1::ListNamespacesRequest::ORDER_ID) {
      std::sort(all.begin(), all.end(),
                [](const NamespaceInfo& a, const NamespaceInfo& b) { return a.id < b.id; });
    }
    if (request->descending()) std::reverse(all.begin(), all.end());
    const uint64_t start = uint64_t{page - 1} * per_page;
    for (uint64_t i = start; i < all.size() && i < start + per_page; ++i) {
      ToProto(all[i], response->add_namespaces());
    }
    response->set_page(page);
    response->set_per_page(per_page);
    response->set_total_count(static_cast<uint32_t>(all.size()));
    return absl::OkStatus();
  });
}

absl::Status KvService::GetNamespace(const RequestContext& context,
                                     const kv::v1::GetNamespaceRequest* request,
                                     kv::v1::Namespace* response) {
  return Handle([&]() -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string account, AuthorizeCall(auth_, context,
                                                           request->account_id(), Scope::kRead));
    KV_RETURN_IF_ERROR(ValidateNamespaceId(request->namespace_id()));
    KV_ASSIGN_OR_RETURN(NamespaceInfo info,
                        storage_.GetNamespace(account, request->namespace_id()));
    ToProto(info, response);
    return absl::OkStatus();
  });
}

absl::Status KvService::RenameNamespace(const RequestContext& context,
                                        const kv::v1::RenameNamespaceRequest* request,
                                        kv::v1::Namespace* response) {
  return Handle([&]() -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string account, AuthorizeCall(auth_, context,
                                                           request->account_id(), Scope::kWrite));
    KV_RETURN_IF_ERROR(ValidateNamespaceId(request->namespace_id()));
    KV_RETURN_IF_ERROR(ValidateNamespaceTitle(request->title(), limits_));
    KV_ASSIGN_OR_RETURN(NamespaceInfo info, storage_.RenameNamespace(
                                                account, request->namespace_id(), request->title()));
    ToProto(info, response);
    return absl::OkStatus();
  });
}

absl::Status KvService::DeleteNamespace(const RequestContext& context,
                                        const kv::v1::DeleteNamespaceRequest* request,
                                        kv::v1::DeleteNamespaceResponse* response) {
  return Handle([&]() -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string account, AuthorizeCall(auth_, context,
                                                           request->account_id(), Scope::kWrite));
    KV_RETURN_IF_ERROR(ValidateNamespaceId(request->namespace_id()));
    return storage_.DeleteNamespace(account, request->namespace_id());
  });
}

// --- Records ---------------------------------------------------------------

absl::Status KvService::Get(const RequestContext& context, const kv::v1::GetRequest* request,
                            kv::v1::GetResponse* response) {
  return Handle([&]() -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string ns, AuthorizeNamespace(context, request->account_id(),
                                                           request->namespace_id(), Scope::kRead));
    KV_RETURN_IF_ERROR(ValidateGet(*request, limits_));
    std::vector<std::string> keys(request->keys().begin(), request->keys().end());
    std::vector<Version> dead_versions;
    KV_ASSIGN_OR_RETURN(std::vector<std::optional<Record>> records,
                        storage_.GetMany(ns, keys, &dead_versions));
    size_t total_bytes = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      kv::v1::Entry* entry = response->add_entries();
      entry->set_key(keys[i]);
      const std::optional<Record>& record = records[i];
      if (!record.has_value()) {
        // A deleted (or expired) key's version: a reader holding a newer
        // one (read-your-writes, min_version) can tell this answer is new
        // enough.
        if (!dead_versions[i].IsZero()) dead_versions[i].ToProto(entry->mutable_version());
        continue;
      }
      total_bytes += record->value.size();
      if (keys.size() > 1 && total_bytes > limits_.max_bulk_get_bytes) {
        return WithHttpDetail(
            absl::InvalidArgumentError(absl::StrCat(
                "Total size of request exceeds the limit of ",
                limits_.max_bulk_get_bytes >> 20, "MB")),
            413, kCfLimit);
      }
      entry->set_found(true);
      entry->set_value(record->value);
      if (request->with_metadata() && record->metadata) entry->set_metadata(*record->metadata);
      entry->set_expiration(record->expiration);
      record->version.ToProto(entry->mutable_version());
    }
    return absl::OkStatus();
  });
}

absl::Status KvService::Put(const RequestContext& context, const kv::v1::PutRequest* request,
                            kv::v1::PutResponse* response) {
  return Wait([&](Done done) { PutAsync(context, request, response, std::move(done)); });
}

absl::Status KvService::Delete(const RequestContext& context,
                               const kv::v1::DeleteRequest* request,
                               kv::v1::DeleteResponse* response) {
  return Wait([&](Done done) { DeleteAsync(context, request, response, std::move(done)); });
}

absl::Status KvService::BulkPut(const RequestContext& context,
                                const kv::v1::BulkPutRequest* request,
                                kv::v1::BulkPutResponse* response) {
  return Wait([&](Done done) { BulkPutAsync(context, request, response, std::move(done)); });
}

absl::Status KvService::BulkDelete(const RequestContext& context,
                                   const kv::v1::BulkDeleteRequest* request,
                                   kv::v1::BulkDeleteResponse* response) {
  return Wait([&](Done done) { BulkDeleteAsync(context, request, response, std::move(done)); });
}

void KvService::PutAsync(const RequestContext& context, const kv::v1::PutRequest* request,
                         kv::v1::PutResponse* response, Done done) {
  HandleAsync(std::move(done), [&](Done& done) -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string ns, AuthorizeNamespace(context, request->account_id(),
                                                           request->namespace_id(), Scope::kWrite));
    KV_ASSIGN_OR_RETURN(int64_t expiration, ValidatePut(*request, clock_.TimeNow(), limits_));
    std::vector<PutOp> ops;
    ops.push_back(MakePutOp(request->key(), request->value(),
                            request->has_metadata() ? &request->metadata() : nullptr,
                            expiration));
    storage_.PutManyAsync(
        ns, std::move(ops),
        [response, expiration, done = std::move(done)](absl::StatusOr<Version> version) mutable {
          if (version.ok()) {
            version->ToProto(response->mutable_version());
            response->set_expiration(expiration);
          }
          std::move(done)(version.status());
        });
    return absl::OkStatus();
  });
}

void KvService::DeleteAsync(const RequestContext& context, const kv::v1::DeleteRequest* request,
                            kv::v1::DeleteResponse* response, Done done) {
  HandleAsync(std::move(done), [&](Done& done) -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string ns, AuthorizeNamespace(context, request->account_id(),
                                                           request->namespace_id(), Scope::kWrite));
    KV_RETURN_IF_ERROR(ValidateKey(request->key(), limits_));
    storage_.DeleteManyAsync(
        ns, {request->key()},
        [response, done = std::move(done)](absl::StatusOr<Version> version) mutable {
          if (version.ok()) version->ToProto(response->mutable_version());
          std::move(done)(version.status());
        });
    return absl::OkStatus();
  });
}

void KvService::BulkPutAsync(const RequestContext& context,
                             const kv::v1::BulkPutRequest* request,
                             kv::v1::BulkPutResponse* response, Done done) {
  HandleAsync(std::move(done), [&](Done& done) -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string ns, AuthorizeNamespace(context, request->account_id(),
                                                           request->namespace_id(), Scope::kWrite));
    KV_ASSIGN_OR_RETURN(std::vector<int64_t> expirations,
                        ValidateBulkPut(*request, clock_.TimeNow(), limits_));
    std::vector<PutOp> ops;
    ops.reserve(request->entries_size());
    for (int i = 0; i < request->entries_size(); ++i) {
      const kv::v1::BulkPutEntry& e = request->entries(i);
      ops.push_back(MakePutOp(e.key(), e.value(), e.has_metadata() ? &e.metadata() : nullptr,
                              expirations[i]));
    }
    storage_.PutManyAsync(
        ns, std::move(ops),
        [response, count = request->entries_size(),
         done = std::move(done)](absl::StatusOr<Version> version) mutable {
          if (version.ok()) {
            response->set_successful_key_count(count);
            version->ToProto(response->mutable_version());
          }
          std::move(done)(version.status());
        });
    return absl::OkStatus();
  });
}

void KvService::BulkDeleteAsync(const RequestContext& context,
                                const kv::v1::BulkDeleteRequest* request,
                                kv::v1::BulkDeleteResponse* response, Done done) {
  HandleAsync(std::move(done), [&](Done& done) -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string ns, AuthorizeNamespace(context, request->account_id(),
                                                           request->namespace_id(), Scope::kWrite));
    KV_RETURN_IF_ERROR(ValidateBulkDelete(*request, limits_));
    std::vector<std::string> keys(request->keys().begin(), request->keys().end());
    storage_.DeleteManyAsync(
        ns, std::move(keys),
        [response, count = request->keys_size(),
         done = std::move(done)](absl::StatusOr<Version> version) mutable {
          if (version.ok()) {
            response->set_successful_key_count(count);
            version->ToProto(response->mutable_version());
          }
          std::move(done)(version.status());
        });
    return absl::OkStatus();
  });
}

absl::Status KvService::List(const RequestContext& context, const kv::v1::ListRequest* request,
                             kv::v1::ListResponse* response) {
  return Handle([&]() -> absl::Status {
    KV_ASSIGN_OR_RETURN(std::string ns, AuthorizeNamespace(context, request->account_id(),
                                                           request->namespace_id(), Scope::kRead));
    KV_RETURN_IF_ERROR(ValidatePrefix(request->prefix(), limits_));
    KV_ASSIGN_OR_RETURN(uint32_t limit, ResolveListLimit(request->limit(), limits_));
    KV_ASSIGN_OR_RETURN(ListPage page,
                        storage_.List(ns, request->prefix(), limit, request->cursor()));
    for (ListedRecord& listed : page.keys) {
      kv::v1::ListedKey* key = response->add_keys();
      key->set_name(std::move(listed.key));
      key->set_expiration(listed.expiration);
      if (listed.metadata) key->set_metadata(std::move(*listed.metadata));
    }
    response->set_list_complete(page.complete);
    response->set_cursor(page.complete ? "" : page.cursor);
    return absl::OkStatus();
  });
}


}  // namespace kv::central
