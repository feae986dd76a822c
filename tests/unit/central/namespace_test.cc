// Namespaces: unique titles per account, the per-account limit, rename,
// delete (with its keys), and isolation between accounts.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "central/storage.h"
#include "common/error_space.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/storage.pb.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using ::kv::storage::v1::ChangeEntry;
using ::kv::testing::StatusIs;
using ::testing::HasSubstr;

class NamespaceTest : public StorageTest {
 protected:
  std::vector<std::string> Titles(absl::string_view account) {
    absl::StatusOr<std::vector<NamespaceInfo>> list =
        storage_->ListNamespaces(account);
    EXPECT_OK(list);
    std::vector<std::string> titles;
    if (list.ok()) {
      for (const NamespaceInfo& info : *list) titles.push_back(info.title);
    }
    return titles;
  }

  void ExpectHttpDetail(const absl::Status& status, int http_status,
                        int cf_code) {
    std::optional<HttpDetail> detail = GetHttpDetail(status);
    ASSERT_TRUE(detail.has_value()) << status;
    EXPECT_EQ(detail->http_status, http_status);
    EXPECT_EQ(detail->cf_code, cf_code);
  }
};

TEST_F(NamespaceTest, CreateGetAndListOrderedByTitle) {
  ASSERT_OK_AND_ASSIGN(NamespaceInfo zeta,
                       storage_->CreateNamespace("acct", "zeta"));
  ASSERT_OK_AND_ASSIGN(NamespaceInfo alpha,
                       storage_->CreateNamespace("acct", "alpha"));
  EXPECT_EQ(zeta.id.size(), 32u);
  EXPECT_EQ(zeta.id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(zeta.id, alpha.id);
  EXPECT_EQ(zeta.account_id, "acct");
  EXPECT_LT(zeta.version, alpha.version);
  EXPECT_THAT(Titles("acct"), ::testing::ElementsAre("alpha", "main", "zeta"));
  ASSERT_OK_AND_ASSIGN(NamespaceInfo got,
                       storage_->GetNamespace("acct", zeta.id));
  EXPECT_EQ(got.title, "zeta");
  EXPECT_EQ(got.version, zeta.version);
  EXPECT_THAT(Titles("nobody"), ::testing::IsEmpty());

  // Survives a restart.
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_THAT(Titles("acct"), ::testing::ElementsAre("alpha", "main", "zeta"));
  ASSERT_OK_AND_ASSIGN(got, storage_->GetNamespace("acct", alpha.id));
  EXPECT_EQ(got.version, alpha.version);
}

TEST_F(NamespaceTest, TitlesAreUniquePerAccount) {
  absl::StatusOr<NamespaceInfo> dup = storage_->CreateNamespace("acct", "main");
  EXPECT_THAT(
      dup,
      StatusIs(absl::StatusCode::kInvalidArgument,
               "a namespace with this account ID and title already exists"));
  ExpectHttpDetail(dup.status(), 400, kCfDuplicateTitle);
  // The same title in another account is fine.
  ASSERT_OK_AND_ASSIGN(NamespaceInfo other,
                       storage_->CreateNamespace("other", "main"));
  EXPECT_NE(other.id, ns_);
  EXPECT_THAT(Titles("other"), ::testing::ElementsAre("main"));
  EXPECT_THAT(Titles("acct"), ::testing::ElementsAre("main"));
}

TEST_F(NamespaceTest, PerAccountLimit) {
  options_.limits.max_namespaces_per_account = 3;
  ASSERT_NO_FATAL_FAILURE(Reopen());
  ASSERT_OK(storage_->CreateNamespace("acct", "two"));
  ASSERT_OK(storage_->CreateNamespace("acct", "three"));
  absl::StatusOr<NamespaceInfo> over =
      storage_->CreateNamespace("acct", "four");
  EXPECT_THAT(over,
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("3")));
  EXPECT_THAT(over.status().message(), HasSubstr("max_namespaces_per_account"));
  ExpectHttpDetail(over.status(), 400, kCfLimit);
  // Other accounts have their own count; deleting frees a slot.
  ASSERT_OK(storage_->CreateNamespace("other", "four"));
  ASSERT_OK(storage_->DeleteNamespace("acct", ns_));
  ASSERT_OK(storage_->CreateNamespace("acct", "four"));
}

TEST_F(NamespaceTest, Rename) {
  ASSERT_OK_AND_ASSIGN(NamespaceInfo second,
                       storage_->CreateNamespace("acct", "second"));
  // To a taken title: refused.
  absl::StatusOr<NamespaceInfo> taken =
      storage_->RenameNamespace("acct", second.id, "main");
  EXPECT_THAT(taken, StatusIs(absl::StatusCode::kInvalidArgument));
  ExpectHttpDetail(taken.status(), 400, kCfDuplicateTitle);

  ASSERT_OK_AND_ASSIGN(NamespaceInfo renamed,
                       storage_->RenameNamespace("acct", second.id, "renamed"));
  EXPECT_EQ(renamed.id, second.id);
  EXPECT_EQ(renamed.title, "renamed");
  EXPECT_GT(renamed.version, second.version);
  EXPECT_THAT(Titles("acct"), ::testing::ElementsAre("main", "renamed"));
  // The old title is free again.
  ASSERT_OK(storage_->CreateNamespace("acct", "second"));
  // Renaming to its own title is a no-op.
  ASSERT_OK_AND_ASSIGN(NamespaceInfo same,
                       storage_->RenameNamespace("acct", ns_, "main"));
  EXPECT_EQ(same.title, "main");

  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_THAT(Titles("acct"),
              ::testing::ElementsAre("main", "renamed", "second"));
  EXPECT_THAT(storage_->CreateNamespace("acct", "renamed"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(storage_->CreateNamespace("acct", "another"));

  std::vector<SequencedChange> log;
  ASSERT_OK_AND_ASSIGN(log, storage_->change_log().Read(1, 100, 1 << 20));
  int renames = 0;
  for (const SequencedChange& change : log) {
    if (change.entry.kind() == ChangeEntry::NAMESPACE_RENAME) ++renames;
  }
  EXPECT_EQ(renames, 1);
}

TEST_F(NamespaceTest, DeleteRemovesKeys) {
  Put("k1", "v1");
  Put("k2", "v2");
  ASSERT_OK_AND_ASSIGN(NamespaceInfo other,
                       storage_->CreateNamespace("acct", "other"));
  ASSERT_OK(storage_->Put(other.id, PutOp{"k1", "other", std::nullopt, 0}));

  ASSERT_OK(storage_->DeleteNamespace("acct", ns_));
  EXPECT_THAT(storage_->GetNamespace("acct", ns_),
              StatusIs(absl::StatusCode::kNotFound, "namespace not found"));
  EXPECT_THAT(storage_->DeleteNamespace("acct", ns_),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Titles("acct"), ::testing::ElementsAre("other"));
  ASSERT_OK_AND_ASSIGN(SequencedChange last,
                       [&]() -> absl::StatusOr<SequencedChange> {
                         auto changes = storage_->change_log().Read(
                             storage_->change_log().LastSequence(), 1, 1000);
                         if (!changes.ok()) return changes.status();
                         return changes->at(0);
                       }());
  EXPECT_EQ(last.entry.kind(), ChangeEntry::NAMESPACE_DELETE);
  EXPECT_EQ(last.entry.namespace_id(), ns_);

  // A new namespace with the same title is empty; the other keeps its key.
  ASSERT_OK_AND_ASSIGN(NamespaceInfo fresh,
                       storage_->CreateNamespace("acct", "main"));
  EXPECT_NE(fresh.id, ns_);
  ns_ = fresh.id;
  EXPECT_EQ(Get("k1"), "<none>");
  ASSERT_OK_AND_ASSIGN(ListPage page, storage_->List(ns_, "", 100, ""));
  EXPECT_TRUE(page.keys.empty());
  ASSERT_OK_AND_ASSIGN(std::optional<Record> kept,
                       storage_->Get(other.id, "k1"));
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->value, "other");

  // Also after a restart and a compaction.
  ASSERT_OK(storage_->CompactForTesting());
  ASSERT_NO_FATAL_FAILURE(Reopen());
  EXPECT_THAT(storage_->GetNamespace("acct", fresh.id), kv::testing::IsOk());
  ASSERT_OK_AND_ASSIGN(kept, storage_->Get(other.id, "k1"));
  EXPECT_TRUE(kept.has_value());
}

TEST_F(NamespaceTest, OtherAccountsNamespaceIsNotFound) {
  absl::StatusOr<NamespaceInfo> got = storage_->GetNamespace("intruder", ns_);
  EXPECT_THAT(got,
              StatusIs(absl::StatusCode::kNotFound, "namespace not found"));
  ExpectHttpDetail(got.status(), 404, kCfNamespaceNotFound);
  EXPECT_THAT(storage_->RenameNamespace("intruder", ns_, "mine"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(storage_->DeleteNamespace("intruder", ns_),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(storage_->GetNamespace("acct", std::string(32, '0')),
              StatusIs(absl::StatusCode::kNotFound));
  // Untouched.
  ASSERT_OK_AND_ASSIGN(NamespaceInfo mine, storage_->GetNamespace("acct", ns_));
  EXPECT_EQ(mine.title, "main");
}

TEST_F(NamespaceTest, ConcurrentCreatesOfOneTitleYieldOne) {
  std::vector<std::thread> threads;
  std::atomic<int> created = 0;
  std::atomic<int> duplicates = 0;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      absl::StatusOr<NamespaceInfo> result =
          storage_->CreateNamespace("race", "title");
      if (result.ok()) {
        created.fetch_add(1);
      } else if (absl::IsInvalidArgument(result.status())) {
        duplicates.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(duplicates.load(), 7);
  EXPECT_THAT(Titles("race"), ::testing::ElementsAre("title"));
}

}  // namespace
}  // namespace kv::central
