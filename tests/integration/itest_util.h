#ifndef KV_TESTS_INTEGRATION_ITEST_UTIL_H_
#define KV_TESTS_INTEGRATION_ITEST_UTIL_H_

// A fixture for tests against one real kv-central: starts it in a temp dir,
// keeps a stub, and wraps the RPCs in short helpers.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/kv.grpc.pb.h"
#include "tests/harness/central_process.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::testing {

// Options of one put; defaults are "none".
struct PutOptions {
  std::optional<std::string> metadata;
  int64_t expiration_ttl = 0;
  int64_t expiration = 0;
};

class CentralFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts (or replaces) the node. Call with ASSERT_NO_FATAL_FAILURE.
  void StartCentral(CentralProcessOptions options = {});
  // After the node restarted: a stub on its new port.
  void Reconnect();

  std::unique_ptr<grpc::ClientContext> Context(absl::Duration timeout = absl::Seconds(60)) const {
    return NewClientContext(token_, timeout);
  }

  // Namespaces (account_ = "" means the token's or the default account).
  absl::StatusOr<kv::v1::Namespace> CreateNamespace(const std::string& title);
  // Creates a namespace or fails the test; returns its id.
  std::string MustCreateNamespace(const std::string& title);
  absl::StatusOr<kv::v1::ListNamespacesResponse> ListNamespaces(
      uint32_t page, uint32_t per_page,
      kv::v1::ListNamespacesRequest::Order order = kv::v1::ListNamespacesRequest::ORDER_UNSPECIFIED,
      bool descending = false);
  absl::StatusOr<kv::v1::Namespace> GetNamespace(const std::string& ns);
  absl::StatusOr<kv::v1::Namespace> RenameNamespace(const std::string& ns, const std::string& title);
  absl::Status DeleteNamespace(const std::string& ns);

  // Records.
  grpc::Status Put(const std::string& ns, const std::string& key, const std::string& value,
                   const PutOptions& options = {});
  absl::StatusOr<kv::v1::Entry> GetEntry(const std::string& ns, const std::string& key,
                                         bool with_metadata = true);
  absl::StatusOr<kv::v1::GetResponse> GetMany(const std::string& ns,
                                              const std::vector<std::string>& keys,
                                              bool with_metadata, uint32_t cache_ttl = 0);
  // The value, "<not found>", or "<error: ...>": for EXPECT_EQ.
  std::string Get(const std::string& ns, const std::string& key);
  grpc::Status Delete(const std::string& ns, const std::string& key);
  absl::StatusOr<kv::v1::ListResponse> ListPage(const std::string& ns, const std::string& prefix,
                                                uint32_t limit, const std::string& cursor);
  // Follows cursors to the end; checks each page's cursor contract.
  absl::StatusOr<std::vector<kv::v1::ListedKey>> ListAll(const std::string& ns,
                                                         const std::string& prefix = "",
                                                         uint32_t limit = 0, int* pages = nullptr);
  absl::StatusOr<std::vector<std::string>> ListNames(const std::string& ns,
                                                     const std::string& prefix = "");
  // BulkPut of (key, value) pairs.
  grpc::Status BulkPut(const std::string& ns,
                       const std::vector<std::pair<std::string, std::string>>& entries,
                       kv::v1::BulkPutResponse* response = nullptr);
  grpc::Status BulkDelete(const std::string& ns, const std::vector<std::string>& keys,
                          kv::v1::BulkDeleteResponse* response = nullptr);

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<CentralProcess> central_;
  std::unique_ptr<kv::v1::Kv::Stub> stub_;
  // Sent with every helper's request.
  std::string token_;
  std::string account_;
};

// Reproducible pseudo-random bytes.
std::string RandomBytes(size_t n, uint64_t seed);

// Seconds since the epoch now.
int64_t NowSeconds();

}  // namespace kv::testing

#endif  // KV_TESTS_INTEGRATION_ITEST_UTIL_H_
