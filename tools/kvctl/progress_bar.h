#ifndef KV_TOOLS_KVCTL_PROGRESS_BAR_H_
#define KV_TOOLS_KVCTL_PROGRESS_BAR_H_

// Progress of a bulk command on stderr. kAuto: a bar redrawn in place when
// stderr is a terminal, nothing otherwise (piped output stays plain);
// kAlways: one plain line per update even when not a terminal; kNever.
// Not thread-safe.
#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace kv::kvctl {

class ProgressBar {
 public:
  enum class Mode { kAuto, kAlways, kNever };
  // Exits 2 on an unknown --progress.
  static Mode ModeFromFlag();

  ProgressBar(std::string label, uint64_t total, Mode mode);
  ~ProgressBar();  // Finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Update(uint64_t done);
  // Ends the bar's line (a terminal) once.
  void Finish();

 private:
  std::string label_;
  uint64_t total_;
  bool tty_ = false;
  bool plain_ = false;
  bool finished_ = false;
  bool drawn_ = false;
  absl::Time start_;
};

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_PROGRESS_BAR_H_
