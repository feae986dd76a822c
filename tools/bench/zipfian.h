#ifndef KV_TOOLS_BENCH_ZIPFIAN_H_
#define KV_TOOLS_BENCH_ZIPFIAN_H_

// Zipfian key indexes over [0, n) as YCSB draws them (Gray et al.,
// "Quickly generating billion-record synthetic databases"; theta 0.99 by
// default), scrambled by an FNV hash so the hot keys are spread over the key
// space rather than being 0, 1, 2... Immutable after construction;
// thread-safe (callers bring their own uniform numbers).
#include <cstdint>

namespace kv::bench {

class Zipfian {
 public:
  // REQUIRES: n >= 1, 0 < theta < 1. O(n) to construct.
  explicit Zipfian(uint64_t n, double theta = 0.99);
  // `u` uniform in [0, 1).
  uint64_t Next(double u) const;
  uint64_t n() const { return n_; }

 private:
  uint64_t n_;
  double theta_, alpha_, zetan_, eta_, half_pow_theta_;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_ZIPFIAN_H_
