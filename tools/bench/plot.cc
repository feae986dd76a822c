#include "tools/bench/plot.h"

#include <cstdio>
#include <fstream>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace kv::bench {
namespace {

std::mutex mu;
std::vector<std::pair<std::string, std::vector<SeriesPoint>>>& Series() {
  static auto* series = new std::vector<std::pair<std::string, std::vector<SeriesPoint>>>();
  return *series;
}

std::string GnuplotString(const std::string& s) {
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\\", "\\\\"}, {"\"", "\\\""}}), "\"");
}

}  // namespace

void AddPlotSeries(const std::string& title, std::vector<SeriesPoint> points) {
  if (points.empty()) return;
  std::lock_guard<std::mutex> lock(mu);
  Series().emplace_back(title, std::move(points));
}

absl::Status WritePlot(const std::string& png_path, const std::string& workload) {
  std::lock_guard<std::mutex> lock(mu);
  if (Series().empty()) {
    return absl::FailedPreconditionError("no latency series recorded for --plot");
  }
  const std::string dat = png_path + ".dat";
  {
    std::ofstream out(dat, std::ios::trunc);
    out << "# t_sec ops_per_sec p50_us p99_us; one block per series\n";
    for (const auto& [title, points] : Series()) {
      out << "# " << title << "\n";
      for (const SeriesPoint& p : points) {
        out << p.t_sec << " " << p.ops_per_sec << " " << p.p50_us << " " << p.p99_us << "\n";
      }
      out << "\n\n";
    }
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", dat));
  }
  std::string script = absl::StrCat(
      "set terminal pngcairo size 1200,800 noenhanced\n"
      "set output ", GnuplotString(png_path), "\n",
      "set multiplot layout 2,1 title ", GnuplotString(absl::StrCat("kv-bench ", workload)), "\n",
      "set grid\nset key outside right\nset xlabel 'seconds'\n"
      "set ylabel 'latency (us)'\nset logscale y\n");
  std::string lat, ops;
  for (size_t i = 0; i < Series().size(); ++i) {
    const std::string& title = Series()[i].first;
    absl::StrAppend(&lat, i == 0 ? "plot " : ", ", GnuplotString(dat), " index ", i,
                    " using 1:3 with lines title ", GnuplotString(title + " p50"), ", ",
                    GnuplotString(dat), " index ", i, " using 1:4 with lines dt 2 title ",
                    GnuplotString(title + " p99"));
    absl::StrAppend(&ops, i == 0 ? "plot " : ", ", GnuplotString(dat), " index ", i,
                    " using 1:2 with lines title ", GnuplotString(title));
  }
  absl::StrAppend(&script, lat, "\nunset logscale y\nset ylabel 'calls completed per s'\nset yrange [0:*]\n", ops,
                  "\nunset multiplot\n");
  FILE* p = popen("gnuplot 2>&1", "w");
  if (p == nullptr) return absl::UnavailableError("cannot run gnuplot");
  fwrite(script.data(), 1, script.size(), p);
  const int rc = pclose(p);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat(
        "gnuplot failed (exit status ", rc,
        "); install it with `apt-get install gnuplot-nox` (scripts/install-deps.sh does)"));
  }
  return absl::OkStatus();
}

}  // namespace kv::bench
