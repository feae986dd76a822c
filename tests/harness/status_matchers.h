#ifndef KV_TESTS_HARNESS_STATUS_MATCHERS_H_
#define KV_TESTS_HARNESS_STATUS_MATCHERS_H_

// gtest helpers for absl::Status, absl::StatusOr<T> and grpc::Status:
//
//   EXPECT_OK(store.Put(...));                 // any of the three
//   ASSERT_OK(stub->Put(&ctx, req, &resp));
//   ASSERT_OK_AND_ASSIGN(auto value, store.Get("k"));
//   EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(grpc_status, StatusIs(grpc::StatusCode::INVALID_ARGUMENT,
//                                     HasSubstr("exceeds limit of 1024")));
//   EXPECT_THAT(status_or, IsOk());

#include <grpcpp/support/status.h>

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kv::testing {

// The status carried by any of the supported types, as an absl::Status
// (grpc::Status codes have the same numbers; the message is kept).
inline const absl::Status& ToAbslStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& ToAbslStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}
inline absl::Status ToAbslStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

namespace internal {

class StatusIsMatcherCommon {
 public:
  StatusIsMatcherCommon(absl::StatusCode code,
                        ::testing::Matcher<const std::string&> message_matcher)
      : code_(code), message_matcher_(std::move(message_matcher)) {}

  void DescribeTo(std::ostream* os) const {
    *os << "has status code " << absl::StatusCodeToString(code_) << " and a message that ";
    message_matcher_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have status code " << absl::StatusCodeToString(code_)
        << " or has a message that ";
    message_matcher_.DescribeNegationTo(os);
  }
  bool MatchAndExplain(const absl::Status& status,
                       ::testing::MatchResultListener* listener) const {
    *listener << "whose status is " << (status.ok() ? "OK" : status.ToString());
    if (status.code() != code_) return false;
    const std::string message(status.message());
    ::testing::StringMatchResultListener inner;
    if (!message_matcher_.MatchAndExplain(message, &inner)) {
      if (!inner.str().empty()) *listener << ", and the message " << inner.str();
      return false;
    }
    return true;
  }

 private:
  absl::StatusCode code_;
  ::testing::Matcher<const std::string&> message_matcher_;
};

template <typename T>
class MonoStatusIsMatcher : public ::testing::MatcherInterface<T> {
 public:
  explicit MonoStatusIsMatcher(StatusIsMatcherCommon common) : common_(std::move(common)) {}
  void DescribeTo(std::ostream* os) const override { common_.DescribeTo(os); }
  void DescribeNegationTo(std::ostream* os) const override { common_.DescribeNegationTo(os); }
  bool MatchAndExplain(T value, ::testing::MatchResultListener* listener) const override {
    return common_.MatchAndExplain(ToAbslStatus(value), listener);
  }

 private:
  StatusIsMatcherCommon common_;
};

// Polymorphic: converts to Matcher<absl::Status>, Matcher<StatusOr<T>>,
// Matcher<grpc::Status> and their const references.
class StatusIsMatcher {
 public:
  StatusIsMatcher(absl::StatusCode code, ::testing::Matcher<const std::string&> message_matcher)
      : common_(code, std::move(message_matcher)) {}
  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT(google-explicit-constructor)
    return ::testing::Matcher<T>(new MonoStatusIsMatcher<T>(common_));
  }

 private:
  StatusIsMatcherCommon common_;
};

class IsOkMatcher {
 public:
  template <typename T>
  operator ::testing::Matcher<T>() const {  // NOLINT(google-explicit-constructor)
    return ::testing::Matcher<T>(new Impl<T>());
  }

 private:
  template <typename T>
  class Impl : public ::testing::MatcherInterface<T> {
   public:
    void DescribeTo(std::ostream* os) const override { *os << "is OK"; }
    void DescribeNegationTo(std::ostream* os) const override { *os << "is not OK"; }
    bool MatchAndExplain(T value, ::testing::MatchResultListener* listener) const override {
      const absl::Status& status = ToAbslStatus(value);
      if (!status.ok()) *listener << "whose status is " << status.ToString();
      return status.ok();
    }
  };
};

}  // namespace internal

// Matches a status (or StatusOr, or grpc::Status) with `code` and a message
// matching `message_matcher` (a gmock string matcher or a string for
// equality); any message when omitted.
template <typename MessageMatcher>
internal::StatusIsMatcher StatusIs(absl::StatusCode code, MessageMatcher&& message_matcher) {
  return internal::StatusIsMatcher(
      code, ::testing::MatcherCast<const std::string&>(
                std::forward<MessageMatcher>(message_matcher)));
}
inline internal::StatusIsMatcher StatusIs(absl::StatusCode code) {
  return StatusIs(code, ::testing::_);
}
template <typename MessageMatcher>
internal::StatusIsMatcher StatusIs(grpc::StatusCode code, MessageMatcher&& message_matcher) {
  return StatusIs(static_cast<absl::StatusCode>(code),
                  std::forward<MessageMatcher>(message_matcher));
}
inline internal::StatusIsMatcher StatusIs(grpc::StatusCode code) {
  return StatusIs(static_cast<absl::StatusCode>(code), ::testing::_);
}

inline internal::IsOkMatcher IsOk() { return {}; }

}  // namespace kv::testing

// Prints grpc::Status in gtest messages ("INVALID_ARGUMENT: message") instead
// of its bytes. Found by argument-dependent lookup.
namespace grpc {
inline void PrintTo(const Status& status, std::ostream* os) {
  *os << (status.ok() ? std::string("OK") : ::kv::testing::ToAbslStatus(status).ToString());
}
}  // namespace grpc

#define KV_TESTING_CONCAT_INNER_(a, b) a##b
#define KV_TESTING_CONCAT_(a, b) KV_TESTING_CONCAT_INNER_(a, b)

#define KV_TESTING_EXPECT_OK_IMPL_(expr, fail)                                        \
  switch (0)                                                                          \
  case 0:                                                                             \
  default:                                                                            \
    if (const ::absl::Status kv_testing_status_ = ::kv::testing::ToAbslStatus(expr);  \
        kv_testing_status_.ok()) {                                                    \
    } else                                                                            \
      fail() << "Expected OK: " #expr "\n  Actual: " << kv_testing_status_.ToString()

// Non-fatal / fatal check that an absl::Status, absl::StatusOr<T> or
// grpc::Status is OK; prints the code and message otherwise. Accepts `<<`.
#define EXPECT_OK(expr) KV_TESTING_EXPECT_OK_IMPL_(expr, ADD_FAILURE)
#define ASSERT_OK(expr) KV_TESTING_EXPECT_OK_IMPL_(expr, GTEST_FAIL)

// `lhs = value of rexpr` (an absl::StatusOr<T>), or a fatal failure.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  KV_ASSERT_OK_AND_ASSIGN_IMPL_(KV_TESTING_CONCAT_(kv_testing_statusor_, __LINE__), lhs, rexpr)
#define KV_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr)                      \
  auto statusor = (rexpr);                                                       \
  ASSERT_TRUE(statusor.ok()) << "Expected OK: " #rexpr "\n  Actual: "            \
                             << statusor.status().ToString();                    \
  lhs = std::move(statusor).value()

#endif  // KV_TESTS_HARNESS_STATUS_MATCHERS_H_
