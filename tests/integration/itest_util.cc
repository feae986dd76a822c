#include "tests/integration/itest_util.h"

#include <stdlib.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace kv::testing {
namespace {

// The binaries under test, unless the environment names others.
const bool kBinaryPathsSet = [] {
  setenv("KV_CENTRAL_BIN", KV_CENTRAL_BIN_DEFAULT, /*overwrite=*/0);
  setenv("KVCTL_BIN", KVCTL_BIN_DEFAULT, /*overwrite=*/0);
  setenv("KV_BENCH_BIN", KV_BENCH_BIN_DEFAULT, /*overwrite=*/0);
  return true;
}();

}  // namespace

void CentralFixture::SetUp() {
  absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kv-itest");
  ASSERT_OK(dir);
  dir_ = std::move(*dir);
}

void CentralFixture::TearDown() {
  stub_.reset();
  if (central_ != nullptr && HasFailure()) {
    std::cerr << "kv-central log tail (" << central_->log_path() << "):\n" << central_->LogTail(40);
  }
  central_.reset();  // SIGKILL if still running, before the dir goes
  dir_.reset();
}

void CentralFixture::StartCentral(CentralProcessOptions options) {
  stub_.reset();
  central_.reset();
  absl::StatusOr<std::unique_ptr<CentralProcess>> central =
      CentralProcess::Start(dir_->Path("central"), std::move(options));
  ASSERT_OK(central);
  central_ = std::move(*central);
  Reconnect();
}

void CentralFixture::Reconnect() { stub_ = central_->NewStub(); }

absl::StatusOr<kv::v1::Namespace> CentralFixture::CreateNamespace(const std::string& title) {
  kv::v1::CreateNamespaceRequest request;
  request.set_account_id(account_);
  request.set_title(title);
  kv::v1::Namespace ns;
  grpc::Status s = stub_->CreateNamespace(Context().get(), request, &ns);
  if (!s.ok()) return ToAbslStatus(s);
  return ns;
}

std::string CentralFixture::MustCreateNamespace(const std::string& title) {
  absl::StatusOr<kv::v1::Namespace> ns = CreateNamespace(title);
  EXPECT_OK(ns) << "creating namespace " << title;
  return ns.ok() ? ns->id() : "";
}

absl::StatusOr<kv::v1::ListNamespacesResponse> CentralFixture::ListNamespaces(
    uint32_t page, uint32_t per_page, kv::v1::ListNamespacesRequest::Order order,
    bool descending) {
  kv::v1::ListNamespacesRequest request;
  request.set_account_id(account_);
  request.set_page(page);
  request.set_per_page(per_page);
  request.set_order(order);
  request.set_descending(descending);
  kv::v1::ListNamespacesResponse response;
  grpc::Status s = stub_->ListNamespaces(Context().get(), request, &response);
  if (!s.ok()) return ToAbslStatus(s);
  return response;
}

absl::StatusOr<kv::v1::Namespace> CentralFixture::GetNamespace(const std::string& ns) {
  kv::v1::GetNamespaceRequest request;
  request.set_account_id(account_);
  request.set_namespace_id(ns);
  kv::v1::Namespace response;
  grpc::Status s = stub_->GetNamespace(Context().get(), request, &response);
  if (!s.ok()) return ToAbslStatus(s);
  return response;
}

absl::StatusOr<kv::v1::Namespace> CentralFixture::RenameNamespace(const std::string& ns,
                                                                  const std::string& title) {
  kv::v1::RenameNamespaceRequest request;
  request.set_account_id(account_);
  request.set_namespace_id(ns);
  request.set_title(title);
  kv::v1::Namespace response;
  grpc::Status s = stub_->RenameNamespace(Context().get(), request, &response);
  if (!s.ok()) return ToAbslStatus(s);
  return response;
}

absl::Status CentralFixture::DeleteNamespace(const std::string& ns) {
  kv::v1::DeleteNamespaceRequest request;
  request.set_account_id(account_);
  request.set_namespace_id(ns);
  kv::v1::DeleteNamespaceResponse response;
  return ToAbslStatus(stub_->DeleteNamespace(Context().get(), request, &response));
}

grpc::Status CentralFixture::Put(const std::string& ns, const std::string& key,
                                 const std::string& value, const PutOptions& options) {
  kv::v1::PutRequest request;
  request.set_account_id(account_);
  request.set_namespace_id(ns);
  request.set_key(key);
  request.set_value(value);
  if (options.metadata.has_value()) request.set_metadata(*options.metadata);
  request.set_expiration_ttl(options.expiration_ttl);
  request.set_expiration(options.expiration);
  kv::v1::PutResponse response;
  return stub_->Put(Context().get(), request, &response);
}

absl::StatusOr<kv::v1::GetResponse> CentralFixture::GetMany(const std::string& ns,
                                                            const std::vector<std::string>& keys,
                                                            bool with_metadata,
                                                            uint32_t cache_ttl) {
  kv::v1::GetRequest request;
  request.set_account_id(account_);
  request.set_namespace_id(ns);
  for (const std::string& key : keys) request.add_keys(key);
  request.set_with_metadata(with_metadata);
  request.set_cache_ttl(cache_ttl);
  kv::v1::GetResponse response;
  grpc::Status s = stub_->Get(Context().get(), request, &response);
  if (!s.ok()) return ToAbslStatus(s);
  if (response.entries_size() != static_cast<int>(keys.size())) {
    return absl::InternalError(absl::StrCat("asked for ", keys.size(), " keys, got ",
                                            response.entries_size(), " entries"));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (response.entries(static_cast<int>(i)).key() != keys[i]) {
      return absl::InternalError(absl::StrCat("entry ", i, " is for key \"",
                                              response.entries(static_cast<int>(i)).key(),
                                              "\", asked for \"", keys[i], "\""));
    }
  }
  return response;
}

absl::StatusOr<kv::v1::Entry> CentralFixture::GetEntry(const std::string& ns,
                                                       const std::string& key,
                                                       bool with_metadata) {
  absl::StatusOr<kv::v1::GetResponse> response = GetMany(ns, {key}, with_metadata);
  if (!response.ok()) return response.status();
  return response->entries(0);
}

std::string CentralFixture::Get(const std::string& ns, const std::string& key) {
  absl::StatusOr<kv::v1::Entry> entry = GetEntry(ns, key, false);
  if (!entry.ok()) return absl::StrCat("<error: ", entry.status().ToString(), ">");
  if (!entry->found()) return "<not found>";
  return entry->value();
}

grpc::Status CentralFixture::Delete(const std::string& ns, const std::string& key) {
  kv::v1::DeleteRequest request;
  request.set_account_id(account_);
  request.set_namespace_id(ns);
  request.set_key(key);
  kv::v1::DeleteResponse response;
  return stub_->Delete(Context().get(), request, &response);
}

absl::StatusOr<kv::v1::ListResponse> CentralFixture::ListPage(const std::string& ns,
                                                              const std::string& prefix,
                                                              uint32_t limit,
                                                              const std::string& cursor) {
  kv::v1::ListRequest request;
  request.set_account_id(account_);
  request.set_namespace_id(ns);
  request.set_prefix(prefix);
  request.set_limit(limit);
  request.set_cursor(cursor);
  kv::v1::ListResponse response;
  grpc::Status s = stub_->List(Context().get(), request, &response);
  if (!s.ok()) return ToAbslStatus(s);
  return response;
}

absl::StatusOr<std::vector<kv::v1::ListedKey>> CentralFixture::ListAll(const std::string& ns,
                                                                       const std::string& prefix,
                                                                       uint32_t limit,
                                                                       int* pages) {
  std::vector<kv::v1::ListedKey> keys;
  std::string cursor;
  const uint32_t page_max = limit == 0 ? 1000 : limit;
  for (int page = 1;; ++page) {
    if (page > 100000) return absl::InternalError("list does not end");
    absl::StatusOr<kv::v1::ListResponse> response = ListPage(ns, prefix, limit, cursor);
    if (!response.ok()) return response.status();
    if (static_cast<uint32_t>(response->keys_size()) > page_max) {
      return absl::InternalError(absl::StrCat("page of ", response->keys_size(),
                                              " keys; the limit was ", page_max));
    }
    if (response->list_complete() != response->cursor().empty()) {
      return absl::InternalError(absl::StrCat("list_complete=", response->list_complete(),
                                              " with cursor \"", response->cursor(), "\""));
    }
    for (const kv::v1::ListedKey& key : response->keys()) keys.push_back(key);
    if (response->list_complete()) {
      if (pages != nullptr) *pages = page;
      return keys;
    }
    cursor = response->cursor();
  }
}

absl::StatusOr<std::vector<std::string>> CentralFixture::ListNames(const std::string& ns,
                                                                   const std::string& prefix) {
  absl::StatusOr<std::vector<kv::v1::ListedKey>> keys = ListAll(ns, prefix);
  if (!keys.ok()) return keys.status();
  std::vector<std::string> names;
  for (const kv::v1::ListedKey& key : *keys) names.push_back(key.name());
  return names;
}

grpc::Status CentralFixture::BulkPut(
    const std::string& ns, const std::vector<std::pair<std::string, std::string>>& entries,
    kv::v1::BulkPutResponse* response) {
  kv::v1::BulkPutRequest request;
  request.set_account_id(account_);
  request.set_namespace_id(ns);
  for (const auto& [key, value] : entries) {
    kv::v1::BulkPutEntry* entry = request.add_entries();
    entry->set_key(key);
    entry->set_value(value);
  }
  kv::v1::BulkPutResponse local;
  return stub_->BulkPut(Context().get(), request, response != nullptr ? response : &local);
}

grpc::Status CentralFixture::BulkDelete(const std::string& ns,
                                        const std::vector<std::string>& keys,
                                        kv::v1::BulkDeleteResponse* response) {
  kv::v1::BulkDeleteRequest request;
  request.set_account_id(account_);
  request.set_namespace_id(ns);
  for (const std::string& key : keys) request.add_keys(key);
  kv::v1::BulkDeleteResponse local;
  return stub_->BulkDelete(Context().get(), request, response != nullptr ? response : &local);
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

int64_t NowSeconds() { return absl::ToUnixSeconds(absl::Now()); }

}  // namespace kv::testing
