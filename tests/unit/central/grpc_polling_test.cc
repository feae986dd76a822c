// SetGrpcPollStrategy: names gRPC's polling engine through the environment,
// keeps an operator's own GRPC_POLL_STRATEGY, and refuses unknown engines.
#include "central/grpc_polling.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace kv::central {
namespace {

// Restores GRPC_POLL_STRATEGY as it was when the test started.
class GrpcPollingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* v = std::getenv("GRPC_POLL_STRATEGY")) saved_ = v;
    unsetenv("GRPC_POLL_STRATEGY");
  }
  void TearDown() override {
    if (saved_) {
      setenv("GRPC_POLL_STRATEGY", saved_->c_str(), 1);
    } else {
      unsetenv("GRPC_POLL_STRATEGY");
    }
  }
  static std::string Current() {
    const char* v = std::getenv("GRPC_POLL_STRATEGY");
    return v == nullptr ? "<unset>" : v;
  }
  std::optional<std::string> saved_;
};

TEST_F(GrpcPollingTest, NamesTheEngine) {
  ASSERT_TRUE(SetGrpcPollStrategy("poll").ok());
  EXPECT_EQ(Current(), "poll");
}

TEST_F(GrpcPollingTest, EmptyLeavesGrpcsDefault) {
  ASSERT_TRUE(SetGrpcPollStrategy("").ok());
  EXPECT_EQ(Current(), "<unset>");
}

TEST_F(GrpcPollingTest, TheOperatorsEnvironmentWins) {
  setenv("GRPC_POLL_STRATEGY", "epoll1", 1);
  ASSERT_TRUE(SetGrpcPollStrategy("poll").ok());
  EXPECT_EQ(Current(), "epoll1");
}

TEST_F(GrpcPollingTest, UnknownEngineIsRefused) {
  absl::Status status = SetGrpcPollStrategy("kqueue");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("kqueue"), std::string::npos) << status;
  EXPECT_EQ(Current(), "<unset>");
}

}  // namespace
}  // namespace kv::central
