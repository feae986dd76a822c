#ifndef KV_TOOLS_BENCH_LATENCY_SERIES_H_
#define KV_TOOLS_BENCH_LATENCY_SERIES_H_

// Latency over time for --plot: each sample is filed under the bucket of its
// completion time (seconds since the measured interval began); Points()
// gives each bucket's throughput, p50 and p99. Not thread-safe: one per
// thread, merged at the end.
#include <cstdint>
#include <vector>

namespace kv::bench {

struct SeriesPoint {
  double t_sec = 0;  // bucket start
  double ops_per_sec = 0;
  double p50_us = 0, p99_us = 0;
};

class LatencySeries {
 public:
  explicit LatencySeries(double bucket_sec = 0.1) : bucket_sec_(bucket_sec) {}
  void Record(double t_sec, double latency_us);
  void Merge(const LatencySeries& other);
  // Buckets in time order; empty buckets are skipped.
  std::vector<SeriesPoint> Points() const;

 private:
  double bucket_sec_;
  std::vector<std::vector<float>> buckets_;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_LATENCY_SERIES_H_
