#ifndef KV_TESTS_HARNESS_TEMP_DIR_H_
#define KV_TESTS_HARNESS_TEMP_DIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv::testing {

// A fresh directory under $TMPDIR (or /tmp), named after `prefix` and the
// running test. The destructor removes it unless the current test has
// failed (or $KV_KEEP_TEST_DIRS is set and not "0"), in which case it is
// kept and its path printed, for inspection.
// Not thread-safe; owned by one test.
class TempDir {
 public:
  // INTERNAL when the directory cannot be created.
  static absl::StatusOr<std::unique_ptr<TempDir>> Create(absl::string_view prefix = "kv");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Path(absl::string_view name) const;
  // Keeps the directory even when the test passes.
  void Keep() { keep_ = true; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  bool keep_ = false;
};

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_TEMP_DIR_H_
