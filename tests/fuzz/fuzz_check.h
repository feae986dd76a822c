#ifndef KV_TESTS_FUZZ_FUZZ_CHECK_H_
#define KV_TESTS_FUZZ_FUZZ_CHECK_H_

// What a fuzz target asserts: a property that must hold for every input.
// A failure prints the property and aborts, which libFuzzer reports as a
// crash (and saves the input); the corpus replay reports it as a failed
// test. Used instead of assert() so it holds in optimised builds too.

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"

#define KV_FUZZ_CHECK(condition)                                                     \
  do {                                                                               \
    if (!(condition)) {                                                              \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

namespace kv {

// Bad input gets a clear error: a refusal must say why.
inline void CheckRefusalSaysWhy(const absl::Status& status) {
  if (!status.ok()) KV_FUZZ_CHECK(!status.message().empty());
}

}  // namespace kv

#endif  // KV_TESTS_FUZZ_FUZZ_CHECK_H_
