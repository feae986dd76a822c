#ifndef KV_TESTS_HARNESS_EVENTUALLY_H_
#define KV_TESTS_HARNESS_EVENTUALLY_H_

#include <functional>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace kv::testing {

// Runs `fn` until it produces no gtest failure or `timeout` passes, sleeping
// with exponential backoff (1 ms doubling to 100 ms) between attempts.
// Failures of the attempts are swallowed; when time is up `fn` runs once more
// with its failures reported, so the test shows the last failure (as Kudu's
// AssertEventually). Intercepts only failures raised on the calling thread.
// `fn` should use ASSERT_* to stop an attempt early; it may have side effects
// (it runs at least once and possibly many times).
void AssertEventually(const std::function<void()>& fn,
                      absl::Duration timeout = absl::Seconds(10));

}  // namespace kv::testing

// ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get("k"), "v"); }, absl::Seconds(5));
// Returns from the calling function when the last attempt failed fatally.
// The timeout is optional (default 10 s).
#define ASSERT_EVENTUALLY(...)                                   \
  do {                                                           \
    ::kv::testing::AssertEventually(__VA_ARGS__);                \
    if (::testing::Test::HasFatalFailure()) return;              \
  } while (0)

// As ASSERT_EVENTUALLY, but the caller continues after a failure.
#define EXPECT_EVENTUALLY(...) ::kv::testing::AssertEventually(__VA_ARGS__)

#endif  // KV_TESTS_HARNESS_EVENTUALLY_H_
