// holds_all_until_file: what a central writes it reads back after a restart;
// a missing, empty or garbled file reads as "unknown" (InfinitePast), which
// makes the next catch-up take in every tombstone, never fewer.
#include "central/holds_all_until_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::central {
namespace {

TEST(HoldsAllUntilFileTest, ReadsBackWhatWasWrittenToTheMillisecond) {
  ASSERT_OK_AND_ASSIGN(auto dir, kv::testing::TempDir::Create("holds-all-until"));
  const std::string path = dir->Path("holds_all_until");
  const absl::Time t = absl::FromUnixMillis(1795804752900);
  ASSERT_OK(WriteHoldsAllUntil(path, t));
  EXPECT_EQ(ReadHoldsAllUntil(path), t);
  ASSERT_OK(WriteHoldsAllUntil(path, t + absl::Seconds(3)));  // replaces it
  EXPECT_EQ(ReadHoldsAllUntil(path), t + absl::Seconds(3));
}

TEST(HoldsAllUntilFileTest, MissingOrGarbledIsUnknown) {
  ASSERT_OK_AND_ASSIGN(auto dir, kv::testing::TempDir::Create("holds-all-until"));
  const std::string path = dir->Path("holds_all_until");
  EXPECT_EQ(ReadHoldsAllUntil(path), absl::InfinitePast());
  for (const char* text : {"", "\n", "12ab\n", "-5\n", "0\n", "99999999999999999999999\n"}) {
    std::ofstream(path, std::ios::trunc) << text;
    EXPECT_EQ(ReadHoldsAllUntil(path), absl::InfinitePast()) << "'" << text << "'";
  }
}

TEST(HoldsAllUntilFileTest, AnUnwritableDirectoryIsAnError) {
  EXPECT_FALSE(WriteHoldsAllUntil("/nonexistent-dir/holds_all_until", absl::Now()).ok());
}

}  // namespace
}  // namespace kv::central
