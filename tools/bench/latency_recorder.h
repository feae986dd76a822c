#ifndef KV_TOOLS_BENCH_LATENCY_RECORDER_H_
#define KV_TOOLS_BENCH_LATENCY_RECORDER_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace kv::bench {

// Collects per-operation latencies (one recorder per thread, merged at the
// end) and reports percentiles. Not thread-safe.
class LatencyRecorder {
 public:
  void Record(int64_t micros) { samples_.push_back(micros); }
  void Merge(const LatencyRecorder& other) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  }
  size_t count() const { return samples_.size(); }
  // p in [0, 100]. Sorts lazily.
  double Percentile(double p) {
    if (samples_.empty()) return 0;
    if (!sorted_) {
      std::sort(samples_.begin(), samples_.end());
      sorted_ = true;
    }
    size_t index = static_cast<size_t>(p / 100.0 * (samples_.size() - 1) + 0.5);
    return static_cast<double>(samples_[std::min(index, samples_.size() - 1)]);
  }

 private:
  std::vector<int64_t> samples_;
  bool sorted_ = false;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_LATENCY_RECORDER_H_
