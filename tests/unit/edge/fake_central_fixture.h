#ifndef KV_TESTS_UNIT_EDGE_FAKE_CENTRAL_FIXTURE_H_
#define KV_TESTS_UNIT_EDGE_FAKE_CENTRAL_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "edge/central_pool.h"
#include "edge/fetcher.h"
#include "edge/lru_cache.h"
#include "edge/stream_state.h"
#include "tests/harness/simulated_clock.h"

namespace kv::edge {

// An edge's read-side parts (cache, stream state, a CentralPool and a
// Fetcher on a simulated clock) against `Central`, a fake central gRPC
// service served on a 127.0.0.1 port chosen by the OS.
template <typename Central>
class FakeCentralFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&central_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    pool_ = std::make_unique<CentralPool>(
        std::vector<std::string>{absl::StrCat("127.0.0.1:", port_)}, absl::Seconds(5));
    fetcher_ = std::make_unique<Fetcher>(*pool_, cache_, clock_);
  }
  void TearDown() override { server_->Shutdown(); }

  Central central_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  kv::testing::SimulatedClock clock_;
  LruCache cache_{LruCacheOptions{.capacity_bytes = 1 << 20, .num_shards = 2}};
  StreamState stream_{clock_};
  std::unique_ptr<CentralPool> pool_;
  std::unique_ptr<Fetcher> fetcher_;
};

}  // namespace kv::edge

#endif  // KV_TESTS_UNIT_EDGE_FAKE_CENTRAL_FIXTURE_H_
