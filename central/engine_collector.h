#ifndef KV_CENTRAL_ENGINE_COLLECTOR_H_
#define KV_CENTRAL_ENGINE_COLLECTOR_H_

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "central/storage.h"

namespace kv::central {

// Exposes the storage engine's figures, read at scrape time, as
// kv_rocksdb_<name> (counters for names ending in _total, gauges otherwise),
// and the free bytes of the data directory's file system as
// kv_disk_free_bytes. Reading at scrape time keeps counters such as
// kv_rocksdb_wal_synced_total exact (tests assert durability with it).
// `storage` must outlive the collector. Thread-safe.
class EngineCollector final : public prometheus::Collectable {
 public:
  EngineCollector(Storage& storage, std::string data_dir)
      : storage_(storage), data_dir_(std::move(data_dir)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  Storage& storage_;
  const std::string data_dir_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_ENGINE_COLLECTOR_H_
