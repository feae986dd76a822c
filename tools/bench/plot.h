#ifndef KV_TOOLS_BENCH_PLOT_H_
#define KV_TOOLS_BENCH_PLOT_H_

// --plot FILE.png: latency (p50, p99) and throughput over time of every
// result that recorded a series, drawn by gnuplot (Debian gnuplot-nox).
// Thread-safe registration; WritePlot runs once at the end.
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/bench/latency_series.h"

namespace kv::bench {

// Keeps `points` under `title` for the plot (no-op when empty).
void AddPlotSeries(const std::string& title, std::vector<SeriesPoint> points);

// Writes FILE.png (and FILE.dat beside it). FAILED_PRECONDITION when no
// series was recorded; UNAVAILABLE when gnuplot is missing or fails.
absl::Status WritePlot(const std::string& png_path, const std::string& workload);

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_PLOT_H_
