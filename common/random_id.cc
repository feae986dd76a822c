#include "common/random_id.h"

#include <random>

#include "absl/random/random.h"

namespace kv {

std::string RandomHexId() {
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local absl::BitGen gen;
  std::string out(32, '0');
  for (char& c : out) c = kHex[absl::Uniform<int>(gen, 0, 16)];
  return out;
}

}  // namespace kv
