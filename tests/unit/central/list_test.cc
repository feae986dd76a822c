// Storage::List: order, prefixes, cursors, paging under concurrent writes.

#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "central/storage.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using ::kv::testing::StatusIs;

class ListTest : public StorageTest {
 protected:
  // Lists everything under `prefix` with pages of `limit`, checking each
  // page's cursor contract; returns the keys in the order returned.
  // `between_pages` runs after every page but the last.
  std::vector<std::string> ListAll(
      absl::string_view prefix, uint32_t limit, int* pages = nullptr,
      const std::function<void()>& between_pages = nullptr) {
    std::vector<std::string> keys;
    std::string cursor;
    for (int page_count = 1;; ++page_count) {
      absl::StatusOr<ListPage> page =
          storage_->List(ns_, prefix, limit, cursor);
      EXPECT_OK(page);
      if (!page.ok()) return keys;
      EXPECT_LE(page->keys.size(), limit);
      for (const ListedRecord& record : page->keys) keys.push_back(record.key);
      if (page->complete) {
        EXPECT_EQ(page->cursor, "");
        if (pages != nullptr) *pages = page_count;
        return keys;
      }
      EXPECT_NE(page->cursor, "");
      cursor = page->cursor;
      if (between_pages) between_pages();
      if (page_count > 100000) {
        ADD_FAILURE() << "list does not end";
        return keys;
      }
    }
  }

  void PutKeys(const std::vector<std::string>& keys, int64_t expiration = 0) {
    std::vector<PutOp> ops;
    for (const std::string& key : keys) {
      PutOp op;
      op.key = key;
      op.value = "v:" + key;
      op.expiration = expiration;
      ops.push_back(std::move(op));
    }
    ASSERT_OK(storage_->PutMany(ns_, std::move(ops)));
  }
};

TEST_F(ListTest, ReturnsLiveKeysInByteOrderWithMetadata) {
  Put("b", "2", 0, R"({"x":1})");
  Put("a", "1");
  Put(std::string("a\0z", 3), "nul");
  Put("\xff", "high");
  Put("c", "3", NowSeconds() + 120);
  Put("gone", "x");
  Delete("gone");
  ASSERT_OK_AND_ASSIGN(ListPage page, storage_->List(ns_, "", 1000, ""));
  EXPECT_TRUE(page.complete);
  EXPECT_EQ(page.cursor, "");
  ASSERT_EQ(page.keys.size(), 5u);
  EXPECT_EQ(page.keys[0].key, "a");
  EXPECT_EQ(page.keys[1].key, std::string("a\0z", 3));
  EXPECT_EQ(page.keys[2].key, "b");
  EXPECT_EQ(page.keys[2].metadata, std::optional<std::string>(R"({"x":1})"));
  EXPECT_EQ(page.keys[3].key, "c");
  EXPECT_EQ(page.keys[3].expiration, NowSeconds() + 120);
  EXPECT_EQ(page.keys[4].key, "\xff");
  EXPECT_EQ(page.keys[0].metadata, std::nullopt);
}

TEST_F(ListTest, PrefixLimitsTheRange) {
  PutKeys({"user/1", "user/2", "user/10", "users", "use", "video/1", "user\xff",
           "user/\xff\xff"});
  EXPECT_THAT(
      ListAll("user/", 2),
      ::testing::ElementsAre("user/1", "user/10", "user/2", "user/\xff\xff"));
  EXPECT_THAT(ListAll("user", 1000),
              ::testing::ElementsAre("user/1", "user/10", "user/2",
                                     "user/\xff\xff", "users", "user\xff"));
  EXPECT_THAT(ListAll("nothing", 10), ::testing::IsEmpty());
  EXPECT_THAT(ListAll("\xff", 10), ::testing::IsEmpty());
}

TEST_F(ListTest, ExactLimitHasNoTrailingEmptyPage) {
  PutKeys({"a", "b", "c"});
  ASSERT_OK_AND_ASSIGN(ListPage page, storage_->List(ns_, "", 3, ""));
  EXPECT_TRUE(page.complete);
  ASSERT_OK_AND_ASSIGN(page, storage_->List(ns_, "", 2, ""));
  EXPECT_FALSE(page.complete);
  EXPECT_EQ(page.cursor, absl::WebSafeBase64Escape("b"));
  // Trailing dead keys after the last live one: the page is complete.
  Put("d", "x");
  Delete("d");
  ASSERT_OK_AND_ASSIGN(page, storage_->List(ns_, "", 3, ""));
  EXPECT_TRUE(page.complete);
}

TEST_F(ListTest, CursorIsStrictlyAfterItsKey) {
  PutKeys({"a", std::string("a\0", 2), "ab", "b"});
  ASSERT_OK_AND_ASSIGN(ListPage page, storage_->List(ns_, "", 1, ""));
  ASSERT_EQ(page.keys.size(), 1u);
  EXPECT_EQ(page.keys[0].key, "a");
  ASSERT_OK_AND_ASSIGN(page, storage_->List(ns_, "", 1, page.cursor));
  ASSERT_EQ(page.keys.size(), 1u);
  EXPECT_EQ(page.keys[0].key, std::string("a\0", 2));
  // A cursor for a key that no longer exists (or never did) still works.
  ASSERT_OK_AND_ASSIGN(
      page, storage_->List(ns_, "", 10, absl::WebSafeBase64Escape("aa")));
  ASSERT_EQ(page.keys.size(), 2u);
  EXPECT_EQ(page.keys[0].key, "ab");
  // A cursor before the prefix starts at the prefix.
  ASSERT_OK_AND_ASSIGN(
      page, storage_->List(ns_, "b", 10, absl::WebSafeBase64Escape("a")));
  ASSERT_EQ(page.keys.size(), 1u);
  EXPECT_EQ(page.keys[0].key, "b");
}

TEST_F(ListTest, MalformedCursorIsInvalidArgument) {
  EXPECT_THAT(storage_->List(ns_, "", 10, "not base64 !!"),
              StatusIs(absl::StatusCode::kInvalidArgument, "invalid cursor"));
  EXPECT_THAT(storage_->List(ns_, "", 10, "a"),
              StatusIs(absl::StatusCode::kInvalidArgument, "invalid cursor"));
  EXPECT_THAT(storage_->List(ns_, "", 0, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(ListTest, ManyDeadKeysBoundAPage) {
  std::vector<std::string> dead;
  for (int i = 0; i < 10050; ++i)
    dead.push_back(absl::StrFormat("dead/%05d", i));
  PutKeys(dead);
  ASSERT_OK(storage_->DeleteMany(ns_, dead));
  PutKeys({"alive/1", "zz/1"});
  ASSERT_OK_AND_ASSIGN(ListPage page, storage_->List(ns_, "", 1000, ""));
  // "alive/1", then the scan gives up among the dead keys with a cursor.
  ASSERT_EQ(page.keys.size(), 1u);
  EXPECT_EQ(page.keys[0].key, "alive/1");
  EXPECT_FALSE(page.complete);
  EXPECT_NE(page.cursor, "");
  EXPECT_THAT(ListAll("", 1000), ::testing::ElementsAre("alive/1", "zz/1"));
}

// Pages over 2,500 keys stay consistent while another thread writes other
// keys: every key that existed before is returned exactly once, in strictly
// increasing order, and keys deleted or expired before the listing never are.
TEST_F(ListTest, PagingUnderConcurrentWrites) {
  std::vector<std::string> stable;
  for (int i = 0; i < 2500; ++i)
    stable.push_back(absl::StrFormat("key/%05d", i * 2));
  PutKeys(stable);
  std::vector<std::string> removed;
  for (int i = 0; i < 300; ++i)
    removed.push_back(absl::StrFormat("key/%05d", i * 16 + 1));
  PutKeys(removed);
  ASSERT_OK(storage_->DeleteMany(ns_, removed));
  std::vector<std::string> expired;
  for (int i = 0; i < 300; ++i)
    expired.push_back(absl::StrFormat("key/%05d", i * 16 + 3));
  PutKeys(expired, NowSeconds() + 60);
  clock_.Advance(absl::Seconds(61));
  const std::set<std::string> never(removed.begin(), removed.end());
  const std::set<std::string> gone(expired.begin(), expired.end());

  for (uint32_t limit : {1000u, 7u}) {
    SCOPED_TRACE(limit);
    // The writer and the lister take turns: before each next page, the
    // writer completes at least one more round of writes.
    absl::Mutex mu;
    bool stop = false;
    int writes = 0;
    std::thread writer([&] {
      // Keys between the stable ones (and some outside the prefix):
      // inserted, half of them deleted again.
      for (int i = 0;; ++i) {
        {
          absl::MutexLock lock(&mu);
          if (stop) return;
        }
        const std::string key =
            absl::StrFormat("key/%05d-c%d", (i * 7919) % 5000, i % 3);
        EXPECT_OK(storage_->Put(ns_, PutOp{key, "churn", std::nullopt, 0}));
        if (i % 2 == 0) {
          EXPECT_OK(storage_->Delete(ns_, key));
        }
        EXPECT_OK(
            storage_->Put(ns_, PutOp{"other/" + key, "x", std::nullopt, 0}));
        absl::MutexLock lock(&mu);
        ++writes;
      }
    });
    int pages = 0;
    std::vector<std::string> listed = ListAll("key/", limit, &pages, [&] {
      absl::MutexLock lock(&mu);
      const int seen = writes;
      auto more = [&] { return writes > seen; };
      EXPECT_TRUE(
          mu.AwaitWithTimeout(absl::Condition(&more), absl::Seconds(30)));
    });
    int total_writes = 0;
    {
      absl::MutexLock lock(&mu);
      stop = true;
      total_writes = writes;
    }
    writer.join();
    EXPECT_GE(total_writes, pages - 1);
    if (limit == 7) {
      EXPECT_GE(pages, 2500 / 7);
    }

    for (size_t i = 1; i < listed.size(); ++i) {
      ASSERT_LT(listed[i - 1], listed[i]) << "at " << i;
    }
    std::set<std::string> seen;
    for (const std::string& key : listed) {
      EXPECT_TRUE(seen.insert(key).second) << "twice: " << key;
      EXPECT_EQ(never.count(key), 0u) << "deleted key listed: " << key;
      EXPECT_EQ(gone.count(key), 0u) << "expired key listed: " << key;
      EXPECT_EQ(key.rfind("key/", 0), 0u) << key;
    }
    for (const std::string& key : stable) {
      EXPECT_EQ(seen.count(key), 1u) << "missing: " << key;
    }
  }
}

}  // namespace
}  // namespace kv::central
