#include "central/holds_all_until_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kv::central {

absl::Time ReadHoldsAllUntil(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InfinitePast();
  std::stringstream text;
  text << in.rdbuf();
  int64_t ms = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text.str()), &ms) || ms <= 0) {
    return absl::InfinitePast();
  }
  return absl::FromUnixMillis(ms);
}

absl::Status WriteHoldsAllUntil(const std::string& path, absl::Time time) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << absl::ToUnixMillis(time) << "\n";
    if (!out.flush()) {
      return absl::InternalError(absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot rename ", tmp, " to ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace kv::central
