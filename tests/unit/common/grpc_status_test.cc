// ToGrpcStatus/FromGrpcStatus keep code, message and the HTTP detail, so an
// edge forwarding a central's error answers HTTP clients as the central
// would.
#include "common/grpc_status.h"

#include "common/error_space.h"
#include "gtest/gtest.h"

namespace kv {
namespace {

TEST(GrpcStatusTest, RoundTripKeepsTheHttpDetail) {
  const absl::Status original = WithHttpDetail(
      absl::InvalidArgumentError("a namespace with this title already exists"), 400,
      kCfDuplicateTitle);
  const grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(wire.error_message(), "a namespace with this title already exists");
  const absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(back.message(), original.message());
  ASSERT_TRUE(GetHttpDetail(back).has_value());
  EXPECT_EQ(GetHttpDetail(back)->http_status, 400);
  EXPECT_EQ(GetHttpDetail(back)->cf_code, kCfDuplicateTitle);
}

TEST(GrpcStatusTest, PlainStatusesAndForeignDetails) {
  EXPECT_TRUE(FromGrpcStatus(ToGrpcStatus(absl::OkStatus())).ok());
  const absl::Status plain = FromGrpcStatus(ToGrpcStatus(absl::NotFoundError("x")));
  EXPECT_EQ(plain.code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(GetHttpDetail(plain).has_value());
  // Details we did not write (or garbage) are ignored, never a crash.
  for (const std::string& details : {std::string("\x08\x03"), std::string("garbage\xff\xff"),
                                    std::string("\x1a\x05\x0a\x03xyz")}) {
    const absl::Status s =
        FromGrpcStatus(grpc::Status(grpc::StatusCode::INTERNAL, "m", details));
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
    EXPECT_FALSE(GetHttpDetail(s).has_value());
  }
}

}  // namespace
}  // namespace kv
