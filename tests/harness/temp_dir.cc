#include "tests/harness/temp_dir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cctype>
#include <filesystem>
#include <iostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kv::testing {

absl::StatusOr<std::unique_ptr<TempDir>> TempDir::Create(absl::string_view prefix) {
  const char* tmpdir = getenv("TMPDIR");
  std::string base = (tmpdir != nullptr && *tmpdir != '\0') ? tmpdir : "/tmp";
  std::string name(prefix);
  if (const ::testing::TestInfo* info =
          ::testing::UnitTest::GetInstance()->current_test_info()) {
    absl::StrAppend(&name, "-", info->test_suite_name(), ".", info->name());
  }
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
  }
  std::string templ = absl::StrCat(base, "/", name, ".XXXXXX");
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("mkdtemp ", templ, ": ", strerror(errno)));
  }
  return std::unique_ptr<TempDir>(new TempDir(buf.data()));
}

TempDir::~TempDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const bool failed = ::testing::Test::HasFailure() ||
                      (info != nullptr && info->result() != nullptr && info->result()->Failed());
  const char* keep_env = getenv("KV_KEEP_TEST_DIRS");
  const bool keep_all = keep_env != nullptr && *keep_env != '\0' && *keep_env != '0';
  if (keep_ || failed || keep_all) {
    std::cerr << "[ TempDir  ] keeping " << path_ << "\n";
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Path(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

}  // namespace kv::testing
