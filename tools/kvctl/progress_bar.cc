#include "tools/kvctl/progress_bar.h"

#include <unistd.h>

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "tools/kvctl/exit_codes.h"
#include "tools/kvctl/flags.h"

namespace kv::kvctl {

ProgressBar::Mode ProgressBar::ModeFromFlag() {
  const std::string mode = absl::GetFlag(FLAGS_progress);
  if (mode == "auto") return Mode::kAuto;
  if (mode == "always") return Mode::kAlways;
  if (mode == "never") return Mode::kNever;
  DieUsage(absl::StrCat("--progress must be auto, always or never, not \"", mode, "\""));
}

ProgressBar::ProgressBar(std::string label, uint64_t total, Mode mode)
    : label_(std::move(label)), total_(total), start_(absl::Now()) {
  const bool is_tty = isatty(STDERR_FILENO) == 1;
  tty_ = mode != Mode::kNever && is_tty;
  plain_ = mode == Mode::kAlways && !is_tty;
}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(uint64_t done) {
  if (finished_) return;
  const double fraction = total_ == 0 ? 1.0 : static_cast<double>(done) / total_;
  const double secs = absl::ToDoubleSeconds(absl::Now() - start_);
  const double rate = secs > 0 ? done / secs : 0;
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::cerr << absl::StrFormat("\r\033[K%s [%s%s] %d/%d %3.0f%% %.0f keys/s", label_,
                                 std::string(filled, '#'), std::string(kWidth - filled, '.'),
                                 done, total_, 100 * fraction, rate)
              << std::flush;
    drawn_ = true;
  } else if (plain_) {
    std::cerr << absl::StrFormat("%s: %d/%d (%.0f%%)\n", label_, done, total_, 100 * fraction)
              << std::flush;
  }
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_ && drawn_) std::cerr << "\n" << std::flush;
}

}  // namespace kv::kvctl
