#ifndef KV_CENTRAL_EXPIRY_COMPACTION_FILTER_H_
#define KV_CENTRAL_EXPIRY_COMPACTION_FILTER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/time/time.h"
#include "common/clock.h"
#include "rocksdb/compaction_filter.h"

namespace kv::central {

// The compaction filter of the records column family: drops records whose
// expiration has passed at clock.TimeNow(), and tombstones whose version is
// older than `tombstone_grace` and than the purge horizon (`*purge_horizon_ms`,
// Unix ms: the time before which every central holds every write, DESIGN
// §4.2; no horizon when null). Values that cannot be decoded are kept (and
// logged): a filter never destroys what it does not understand.
//
// Blob files: RocksDB 7.8 calls FilterBlobByKey() first for a value in a
// blob file; we leave it at kUndetermined, so the compaction reads the blob
// and calls FilterV2() with ValueType::kValue. The record header sits at the
// front of the value, so decoding it costs nothing beyond that read.
//
// Thread-safe and stateless: RocksDB calls one instance from its compaction
// threads concurrently. `clock` must outlive the filter.
class ExpiryCompactionFilter final : public rocksdb::CompactionFilter {
 public:
  ExpiryCompactionFilter(Clock& clock, absl::Duration tombstone_grace,
                         std::shared_ptr<const std::atomic<int64_t>> purge_horizon_ms = nullptr);

  Decision FilterV2(int level, const rocksdb::Slice& key, ValueType value_type,
                    const rocksdb::Slice& existing_value,
                    std::string* new_value,
                    std::string* skip_until) const override;
  const char* Name() const override { return "kv.ExpiryCompactionFilter"; }

 private:
  Clock& clock_;
  const absl::Duration tombstone_grace_;
  const std::shared_ptr<const std::atomic<int64_t>> purge_horizon_ms_;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_EXPIRY_COMPACTION_FILTER_H_
