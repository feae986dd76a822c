#include "tools/bench/latency_series.h"

#include <algorithm>

namespace kv::bench {

void LatencySeries::Record(double t_sec, double latency_us) {
  if (t_sec < 0) return;
  const size_t i = static_cast<size_t>(t_sec / bucket_sec_);
  if (i >= buckets_.size()) buckets_.resize(i + 1);
  buckets_[i].push_back(static_cast<float>(latency_us));
}

void LatencySeries::Merge(const LatencySeries& other) {
  if (other.buckets_.size() > buckets_.size()) buckets_.resize(other.buckets_.size());
  for (size_t i = 0; i < other.buckets_.size(); ++i) {
    buckets_[i].insert(buckets_[i].end(), other.buckets_[i].begin(), other.buckets_[i].end());
  }
}

std::vector<SeriesPoint> LatencySeries::Points() const {
  std::vector<SeriesPoint> out;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    std::vector<float> v = buckets_[i];
    if (v.empty()) continue;
    std::sort(v.begin(), v.end());
    auto at = [&](double p) { return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))]; };
    SeriesPoint point;
    point.t_sec = static_cast<double>(i) * bucket_sec_;
    point.ops_per_sec = static_cast<double>(v.size()) / bucket_sec_;
    point.p50_us = at(0.5);
    point.p99_us = at(0.99);
    out.push_back(point);
  }
  return out;
}

}  // namespace kv::bench
