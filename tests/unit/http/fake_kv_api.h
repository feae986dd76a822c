#ifndef KV_TESTS_UNIT_HTTP_FAKE_KV_API_H_
#define KV_TESTS_UNIT_HTTP_FAKE_KV_API_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/http/kv_api.h"

namespace kv::http {

// Records a call and returns fail_with when it is set.
#define KV_FAKE_CALL(name, request)      \
  calls.push_back(name);                  \
  last_request = (request).DebugString(); \
  if (!fail_with.ok()) return fail_with

// An in-memory KvApi for the front ends' unit tests: one namespace
// ("0123456789abcdef0123456789abcdef"), records in a sorted map, every
// call recorded (method name and the request's text form). No limits are
// checked here: the front ends' own checks are under test. Not thread-safe.
class FakeKvApi final : public KvApi {
 public:
  static constexpr char kNs[] = "0123456789abcdef0123456789abcdef";

  struct Stored {
    std::string value;
    std::optional<std::string> metadata;
    int64_t expiration = 0;
  };
  std::map<std::string, Stored> records;
  std::vector<std::string> calls;
  // The text form of the last request recorded by KV_FAKE_CALL.
  std::string last_request;
  // Returned (and recorded) instead of doing the call, when not OK.
  absl::Status fail_with = absl::OkStatus();
  // When set, TryGetFromCache answers from `records` with "HIT".
  bool cache = false;

  absl::Status CreateNamespace(const RequestContext&, const kv::v1::CreateNamespaceRequest& r,
                               kv::v1::Namespace* out) override {
    KV_FAKE_CALL("CreateNamespace", r);
    out->set_id(kNs);
    out->set_title(r.title());
    return absl::OkStatus();
  }
  absl::Status ListNamespaces(const RequestContext&, const kv::v1::ListNamespacesRequest& r,
                              kv::v1::ListNamespacesResponse* out) override {
    KV_FAKE_CALL("ListNamespaces", r);
    if (r.page() == 1) {
      kv::v1::Namespace* ns = out->add_namespaces();
      ns->set_id(kNs);
      ns->set_title("only");
    }
    out->set_page(r.page());
    out->set_per_page(r.per_page());
    out->set_total_count(1);
    return absl::OkStatus();
  }
  absl::Status GetNamespace(const RequestContext&, const kv::v1::GetNamespaceRequest& r,
                            kv::v1::Namespace* out) override {
    KV_FAKE_CALL("GetNamespace", r);
    out->set_id(r.namespace_id());
    out->set_title("only");
    return absl::OkStatus();
  }
  absl::Status RenameNamespace(const RequestContext&, const kv::v1::RenameNamespaceRequest& r,
                               kv::v1::Namespace* out) override {
    KV_FAKE_CALL("RenameNamespace", r);
    out->set_id(r.namespace_id());
    out->set_title(r.title());
    return absl::OkStatus();
  }
  absl::Status DeleteNamespace(const RequestContext&, const kv::v1::DeleteNamespaceRequest& r,
                               kv::v1::DeleteNamespaceResponse*) override {
    KV_FAKE_CALL("DeleteNamespace", r);
    return absl::OkStatus();
  }
  absl::Status Get(const RequestContext&, const kv::v1::GetRequest& r,
                   kv::v1::GetResponse* out) override {
    KV_FAKE_CALL("Get", r);
    Fill(r, out);
    out->set_cache_status("MISS");
    return absl::OkStatus();
  }
  std::optional<absl::Status> TryGetFromCache(const RequestContext&, const kv::v1::GetRequest& r,
                                              kv::v1::GetResponse* out) override {
    if (!cache) return std::nullopt;
    calls.push_back("TryGetFromCache");
    Fill(r, out);
    out->set_cache_status("HIT");
    return absl::OkStatus();
  }
  absl::Status Put(const RequestContext&, const kv::v1::PutRequest& r,
                   kv::v1::PutResponse*) override {
    KV_FAKE_CALL("Put", r);
    records[r.key()] = {r.value(),
                        r.has_metadata() ? std::optional<std::string>(r.metadata()) : std::nullopt,
                        r.expiration_ttl() != 0 ? r.expiration_ttl() : r.expiration()};
    return absl::OkStatus();
  }
  absl::Status Delete(const RequestContext&, const kv::v1::DeleteRequest& r,
                      kv::v1::DeleteResponse*) override {
    KV_FAKE_CALL("Delete", r);
    records.erase(r.key());
    return absl::OkStatus();
  }
  absl::Status List(const RequestContext&, const kv::v1::ListRequest& r,
                    kv::v1::ListResponse* out) override {
    KV_FAKE_CALL("List", r);
    const uint32_t limit = r.limit() == 0 ? 1000 : r.limit();
    auto it = records.lower_bound(r.cursor().empty() ? r.prefix() : r.cursor() + '\0');
    for (; it != records.end() && it->first.compare(0, r.prefix().size(), r.prefix()) == 0;
         ++it) {
      if (static_cast<uint32_t>(out->keys_size()) == limit) {
        out->set_cursor(out->keys(out->keys_size() - 1).name());
        return absl::OkStatus();
      }
      kv::v1::ListedKey* key = out->add_keys();
      key->set_name(it->first);
      key->set_expiration(it->second.expiration);
      if (it->second.metadata) key->set_metadata(*it->second.metadata);
    }
    out->set_list_complete(true);
    return absl::OkStatus();
  }
  absl::Status BulkPut(const RequestContext&, const kv::v1::BulkPutRequest& r,
                       kv::v1::BulkPutResponse* out) override {
    KV_FAKE_CALL("BulkPut", r);
    for (const kv::v1::BulkPutEntry& e : r.entries()) {
      records[e.key()] = {e.value(),
                          e.has_metadata() ? std::optional<std::string>(e.metadata())
                                           : std::nullopt,
                          e.expiration_ttl() != 0 ? e.expiration_ttl() : e.expiration()};
    }
    out->set_successful_key_count(r.entries_size());
    return absl::OkStatus();
  }
  absl::Status BulkDelete(const RequestContext&, const kv::v1::BulkDeleteRequest& r,
                          kv::v1::BulkDeleteResponse* out) override {
    KV_FAKE_CALL("BulkDelete", r);
    for (const std::string& k : r.keys()) records.erase(k);
    out->set_successful_key_count(r.keys_size());
    return absl::OkStatus();
  }
  // The token's account: `caller_account` (recorded; fail_with when set).
  absl::StatusOr<std::string> CallerAccount(const RequestContext&) override {
    calls.push_back("CallerAccount");
    if (!fail_with.ok()) return fail_with;
    return caller_account;
  }
  std::string caller_account = "acc";

 private:
  void Fill(const kv::v1::GetRequest& r, kv::v1::GetResponse* out) const {
    for (const std::string& key : r.keys()) {
      kv::v1::Entry* e = out->add_entries();
      e->set_key(key);
      auto it = records.find(key);
      if (it == records.end()) continue;
      e->set_found(true);
      e->set_value(it->second.value);
      e->set_expiration(it->second.expiration);
      if (r.with_metadata() && it->second.metadata) e->set_metadata(*it->second.metadata);
    }
  }
};

}  // namespace kv::http

#endif  // KV_TESTS_UNIT_HTTP_FAKE_KV_API_H_
