#include "tests/harness/eventually.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest-spi.h"

namespace kv::testing {

void AssertEventually(const std::function<void()>& fn, absl::Duration timeout) {
  // Monotonic enough for a test: absl::Now() is only used to bound polling.
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(1);
  {
    // An attempt's failure must not stop the test in a debugger or abort it.
    const bool old_break_on_failure = GTEST_FLAG_GET(break_on_failure);
    GTEST_FLAG_SET(break_on_failure, false);
    while (absl::Now() < deadline) {
      ::testing::TestPartResultArray results;
      bool failed = false;
      {
        ::testing::ScopedFakeTestPartResultReporter reporter(
            ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD,
            &results);
        fn();
      }
      for (int i = 0; i < results.size(); ++i) {
        failed |= results.GetTestPartResult(i).failed();
      }
      if (!failed) {
        GTEST_FLAG_SET(break_on_failure, old_break_on_failure);
        return;
      }
      absl::SleepFor(std::min(backoff, std::max(deadline - absl::Now(), absl::ZeroDuration())));
      backoff = std::min(backoff * 2, absl::Milliseconds(100));
    }
    GTEST_FLAG_SET(break_on_failure, old_break_on_failure);
  }
  // Out of time: one last attempt whose failures reach the test.
  SCOPED_TRACE(absl::StrCat("condition still failing after ", absl::FormatDuration(timeout)));
  fn();
}

}  // namespace kv::testing
