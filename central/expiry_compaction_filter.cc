#include "central/expiry_compaction_filter.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/escaping.h"
#include "common/logging.h"
#include "common/record_codec.h"

namespace kv::central {

ExpiryCompactionFilter::ExpiryCompactionFilter(
    Clock& clock, absl::Duration tombstone_grace,
    std::shared_ptr<const std::atomic<int64_t>> purge_horizon_ms)
    : clock_(clock),
      tombstone_grace_(tombstone_grace),
      purge_horizon_ms_(std::move(purge_horizon_ms)) {}

rocksdb::CompactionFilter::Decision ExpiryCompactionFilter::FilterV2(
    int level, const rocksdb::Slice& key, ValueType value_type,
    const rocksdb::Slice& existing_value, std::string* new_value,
    std::string* skip_until) const {
  // kBlobIndex reaches us only if RocksDB could not read the blob for us;
  // merge operands are not used in this column family.
  if (value_type != ValueType::kValue) return Decision::kKeep;
  absl::StatusOr<RecordHeader> header = DecodeRecordHeader(
      absl::string_view(existing_value.data(), existing_value.size()));
  if (!header.ok()) {
    LOG(ERROR) << "records compaction: keeping undecodable record "
               << absl::CHexEscape(absl::string_view(key.data(), key.size()))
               << ": " << header.status();
    return Decision::kKeep;
  }
  const absl::Time now = clock_.TimeNow();
  if (header->tombstone) {
    int64_t cutoff_ms = absl::ToUnixMillis(now - tombstone_grace_);
    if (purge_horizon_ms_ != nullptr) {
      cutoff_ms = std::min(cutoff_ms, purge_horizon_ms_->load(std::memory_order_relaxed));
    }
    if (cutoff_ms > 0 &&
        header->version.physical_ms < static_cast<uint64_t>(cutoff_ms)) {
      return Decision::kRemove;
    }
    return Decision::kKeep;
  }
  if (header->expiration != 0 &&
      absl::ToUnixSeconds(now) >= header->expiration) {
    return Decision::kRemove;
  }
  return Decision::kKeep;
}

}  // namespace kv::central
