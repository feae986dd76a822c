#include "central/storage.h"

#include "central/storage_engine.h"

namespace kv::central {

absl::StatusOr<std::unique_ptr<Storage>> Storage::Open(
    const StorageOptions& options, Clock& clock) {
  absl::StatusOr<std::unique_ptr<StorageEngine>> engine =
      StorageEngine::Open(options, clock);
  if (!engine.ok()) return engine.status();
  return std::unique_ptr<Storage>(std::move(*engine));
}

}  // namespace kv::central
