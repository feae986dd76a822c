#ifndef KV_TESTS_UNIT_CENTRAL_STORAGE_TEST_FIXTURE_H_
#define KV_TESTS_UNIT_CENTRAL_STORAGE_TEST_FIXTURE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "central/storage.h"
#include "gtest/gtest.h"
#include "tests/harness/simulated_clock.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::central {

// A Storage in a fresh temp dir on a SimulatedClock, with one namespace
// (ns_) in account "acct", and short helpers.
class StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, kv::testing::TempDir::Create("storage"));
    options_.data_dir = dir_->Path("db");
    options_.node_id = 7;
    ASSERT_NO_FATAL_FAILURE(Reopen());
    ASSERT_OK_AND_ASSIGN(NamespaceInfo ns,
                         storage_->CreateNamespace("acct", "main"));
    ns_ = ns.id;
  }

  void TearDown() override { storage_.reset(); }

  // Closes (if open) and opens the storage on the same data dir.
  void Reopen() {
    storage_.reset();
    ASSERT_OK_AND_ASSIGN(storage_, Storage::Open(options_, clock_));
  }
  void Close() { storage_.reset(); }

  Version Put(absl::string_view key, absl::string_view value,
              int64_t expiration = 0,
              std::optional<std::string> metadata = std::nullopt) {
    PutOp op;
    op.key = std::string(key);
    op.value = std::string(value);
    op.expiration = expiration;
    op.metadata = std::move(metadata);
    absl::StatusOr<Version> version = storage_->Put(ns_, std::move(op));
    EXPECT_OK(version);
    return version.ok() ? *version : Version();
  }

  void Delete(absl::string_view key) { EXPECT_OK(storage_->Delete(ns_, key)); }

  // The live value, or "<none>".
  std::string Get(absl::string_view key) {
    absl::StatusOr<std::optional<Record>> record = storage_->Get(ns_, key);
    EXPECT_OK(record);
    if (!record.ok()) return "<error>";
    return record->has_value() ? (*record)->value : "<none>";
  }

  int64_t NowSeconds() { return absl::ToUnixSeconds(clock_.TimeNow()); }

  kv::testing::SimulatedClock clock_;
  std::unique_ptr<kv::testing::TempDir> dir_;
  StorageOptions options_;
  std::unique_ptr<Storage> storage_;
  std::string ns_;
};

}  // namespace kv::central

#endif  // KV_TESTS_UNIT_CENTRAL_STORAGE_TEST_FIXTURE_H_
