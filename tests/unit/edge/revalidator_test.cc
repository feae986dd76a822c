#include "edge/revalidator.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/registry.h"
#include "tests/harness/eventually.h"
#include "tests/harness/simulated_clock.h"
#include "tests/unit/edge/fake_central_fixture.h"

namespace kv::edge {
namespace {

constexpr char kNs[] = "0123456789abcdef0123456789abcdef";

// A central whose Revalidate answers from `state` (cache key -> live
// version; absent = not found), failing the first `fail_first` calls with
// UNAVAILABLE.
class FakeCentral final : public kv::v1::Invalidation::Service {
 public:
  grpc::Status Revalidate(grpc::ServerContext*, const kv::v1::RevalidateRequest* request,
                          kv::v1::RevalidateResponse* response) override {
    calls.fetch_add(1);
    if (fail_first.fetch_sub(1) > 0) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not yet");
    keys_asked.fetch_add(request->keys_size());
    absl::MutexLock lock(&mu);
    for (const auto& key : request->keys()) {
      kv::v1::RevalidateResponse::Current* out = response->add_keys();
      auto it = state.find(key.namespace_id() + key.key());
      if (it == state.end()) continue;
      out->set_found(true);
      it->second.ToProto(out->mutable_version());
    }
    return grpc::Status::OK;
  }
  absl::Mutex mu;
  std::map<std::string, Version> state ABSL_GUARDED_BY(mu);
  std::atomic<int> calls{0};
  std::atomic<int> fail_first{0};
  std::atomic<int> keys_asked{0};  // in answered calls
};

class RevalidatorTest : public FakeCentralFixture<FakeCentral> {
 protected:
  void TearDown() override {
    if (revalidator_) revalidator_->Stop();
    FakeCentralFixture::TearDown();
  }

  void StartRevalidator(int batch_keys) {
    RevalidatorOptions options;
    options.batch_keys = batch_keys;
    options.retry_backoff = absl::Milliseconds(10);
    revalidator_ = std::make_unique<Revalidator>(options, *pool_, cache_, *fetcher_, stream_,
                                                 metrics_, clock_);
    revalidator_->Start();
  }

  // Caches `key` (found at `version`, or "not found" when nullopt) at the
  // current simulated time.
  void Cache(const std::string& key, std::optional<Version> version) {
    const std::string cache_key = LruCache::CacheKey(kNs, key);
    cache_.Insert(CachedEntryRef(
        version ? CachedEntry::NewFound(cache_key, "v", std::nullopt, 0, *version,
                                        clock_.MonotonicNow())
                : CachedEntry::NewNotFound(cache_key, Version(), clock_.MonotonicNow())));
  }
  void CentralHolds(const std::string& key, const Version& version) {
    absl::MutexLock lock(&central_.mu);
    central_.state[LruCache::CacheKey(kNs, key)] = version;
  }
  // The cached entry's cached_at, or nullopt when it is not cached.
  std::optional<absl::Duration> CachedAt(const std::string& key) {
    CachedEntryRef e = cache_.Get(LruCache::CacheKey(kNs, key));
    if (!e) return std::nullopt;
    return e->cached_at();
  }
  double Revalidated(const std::string& result) {
    return result == "current" ? metrics_.cache_bulk_revalidated_current.Value()
                               : metrics_.cache_bulk_revalidated_changed.Value();
  }

  prometheus::Registry registry_;
  EdgeMetrics metrics_{registry_, absl::Seconds(60)};
  std::unique_ptr<Revalidator> revalidator_;
};

// Entries the central holds nothing newer of are kept and dated as of the
// question; changed ones (newer version, deleted, created) are dropped.
TEST_F(RevalidatorTest, KeepsCurrentEntriesAndDropsChangedOnes) {
  Cache("same", Version{5, 0, 1});
  Cache("updated", Version{5, 0, 1});
  Cache("deleted", Version{5, 0, 1});
  Cache("still-missing", std::nullopt);
  Cache("created", std::nullopt);
  Cache("edge-newer", Version{9, 0, 1});  // the edge's own write, not yet there
  CentralHolds("same", Version{5, 0, 1});
  CentralHolds("updated", Version{6, 0, 2});
  CentralHolds("created", Version{7, 0, 1});
  CentralHolds("edge-newer", Version{5, 0, 1});
  StartRevalidator(/*batch_keys=*/4);  // two calls

  clock_.Advance(absl::Seconds(10));
  revalidator_->DistrustCache();
  EXPECT_EQ(stream_.distrusted_before(), clock_.MonotonicNow());
  ASSERT_EVENTUALLY([&] {
    ASSERT_TRUE(revalidator_->idle());
    ASSERT_EQ(Revalidated("current") + Revalidated("changed"), 6);
  });
  EXPECT_EQ(central_.calls.load(), 2);
  EXPECT_EQ(Revalidated("current"), 3);
  EXPECT_EQ(Revalidated("changed"), 3);
  for (const char* kept : {"same", "still-missing", "edge-newer"}) {
    ASSERT_TRUE(CachedAt(kept).has_value()) << kept;
    EXPECT_GE(*CachedAt(kept), stream_.distrusted_before()) << kept << " not revalidated";
  }
  for (const char* dropped : {"updated", "deleted", "created"}) {
    EXPECT_FALSE(CachedAt(dropped).has_value()) << dropped << " kept though it changed";
  }
}

// When no central answers, the pass is retried until one does; entries
// cached after the mark are not asked about.
TEST_F(RevalidatorTest, RetriesUntilACentralAnswers) {
  Cache("a", Version{5, 0, 1});
  CentralHolds("a", Version{5, 0, 1});
  central_.fail_first = 3;
  StartRevalidator(/*batch_keys=*/1000);
  clock_.Advance(absl::Seconds(1));
  revalidator_->DistrustCache();
  clock_.Advance(absl::Seconds(1));
  Cache("fresh", Version{8, 0, 1});  // after the mark: trusted as is
  ASSERT_EVENTUALLY([&] {
    ASSERT_TRUE(revalidator_->idle());
    ASSERT_EQ(Revalidated("current"), 1);
  });
  EXPECT_GE(central_.calls.load(), 4);
  EXPECT_EQ(Revalidated("changed"), 0);
  EXPECT_EQ(central_.keys_asked.load(), 1) << "an entry cached after the mark was asked about";
  EXPECT_TRUE(CachedAt("fresh").has_value());
}

}  // namespace
}  // namespace kv::edge
