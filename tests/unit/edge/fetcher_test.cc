#include "edge/fetcher.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/harness/simulated_clock.h"
#include "tests/unit/edge/fake_central_fixture.h"

namespace kv::edge {
namespace {

constexpr char kNs[] = "0123456789abcdef0123456789abcdef";

// A central that answers Get with "<key>@<version>" at version 7 once
// released, counting calls.
class FakeCentral final : public kv::v1::Kv::Service {
 public:
  grpc::Status Get(grpc::ServerContext*, const kv::v1::GetRequest* request,
                   kv::v1::GetResponse* response) override {
    if (calls.fetch_add(1) == 0) arrived.Notify();
    release.WaitForNotificationWithTimeout(absl::Seconds(10));
    for (const std::string& key : request->keys()) {
      kv::v1::Entry* e = response->add_entries();
      e->set_key(key);
      if (key == "missing") continue;
      e->set_found(true);
      e->set_value(key + "@7");
      e->mutable_version()->set_physical_ms(7);
    }
    return grpc::Status::OK;
  }
  std::atomic<int> calls{0};
  absl::Notification arrived;
  absl::Notification release;
};

class FetcherTest : public FakeCentralFixture<FakeCentral> {
 protected:
  void TearDown() override {
    if (!central_.release.HasBeenNotified()) central_.release.Notify();
    FakeCentralFixture::TearDown();
  }
};

TEST_F(FetcherTest, FetchesAndCachesFoundAndMissingKeys) {
  central_.release.Notify();
  auto got = fetcher_->Fetch(kNs, {"a", "missing"}, "");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_TRUE((*got)[0]->found());
  EXPECT_EQ((*got)[0]->value(), "a@7");
  EXPECT_FALSE((*got)[1]->found());
  EXPECT_EQ(central_.calls.load(), 1) << "one upstream call for both keys";
  EXPECT_TRUE(cache_.Get(LruCache::CacheKey(kNs, "a")));
  EXPECT_TRUE(cache_.Get(LruCache::CacheKey(kNs, "missing")));
}

TEST_F(FetcherTest, ConcurrentMissesShareOneFetch) {
  std::vector<std::thread> readers;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      auto got = fetcher_->Fetch(kNs, {"hot"}, "");
      if (got.ok() && (*got)[0]->value() == "hot@7") ok.fetch_add(1);
    });
  }
  ASSERT_TRUE(central_.arrived.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // Every reader has registered or joined the fetch once the count of
  // in-flight callers stops changing; the central saw exactly one call.
  central_.release.Notify();
  for (auto& t : readers) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_LE(central_.calls.load(), 2) << "readers arriving after the fetch finished may fetch again";
}

TEST_F(FetcherTest, AnInvalidationDuringTheFetchWins) {
  absl::StatusOr<std::vector<CachedEntryRef>> got;
  std::thread reader([&] { got = fetcher_->Fetch(kNs, {"k"}, ""); });
  ASSERT_TRUE(central_.arrived.WaitForNotificationWithTimeout(absl::Seconds(10)));
  bool ran = false;
  fetcher_->ApplyInvalidation(LruCache::CacheKey(kNs, "k"), [&] { ran = true; });
  central_.release.Notify();
  reader.join();
  EXPECT_TRUE(ran);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ((*got)[0]->value(), "k@7") << "the reader that asked still gets its answer";
  EXPECT_FALSE(cache_.Get(LruCache::CacheKey(kNs, "k"))) << "but it is not cached";
}

TEST_F(FetcherTest, NoCentralMeansUnavailable) {
  server_->Shutdown();
  auto got = fetcher_->Fetch(kNs, {"k"}, "");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kUnavailable) << got.status();
  EXPECT_FALSE(cache_.Get(LruCache::CacheKey(kNs, "k")));
}

}  // namespace
}  // namespace kv::edge
