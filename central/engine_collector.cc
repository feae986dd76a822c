#include "central/engine_collector.h"

#include <sys/statvfs.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kv::central {

std::vector<prometheus::MetricFamily> EngineCollector::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  auto add = [&](std::string name, std::string help, prometheus::MetricType type, double value) {
    prometheus::MetricFamily family;
    family.name = std::move(name);
    family.help = std::move(help);
    family.type = type;
    prometheus::ClientMetric metric;
    if (type == prometheus::MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    family.metric.push_back(std::move(metric));
    families.push_back(std::move(family));
  };
  for (const auto& [name, value] : storage_.EngineFigures()) {
    const bool counter = absl::EndsWith(name, "_total");
    add(absl::StrCat("kv_rocksdb_", name), absl::StrCat("RocksDB: ", name),
        counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge, value);
  }
  struct statvfs fs;
  if (statvfs(data_dir_.c_str(), &fs) == 0) {
    add("kv_disk_free_bytes", "Free bytes on the data directory's file system",
        prometheus::MetricType::Gauge,
        static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize));
  }
  return families;
}

}  // namespace kv::central
