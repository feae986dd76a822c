#ifndef KV_CENTRAL_STORAGE_ENGINE_H_
#define KV_CENTRAL_STORAGE_ENGINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "central/change_log_impl.h"
#include "central/commit_queue.h"
#include "central/namespace_table.h"
#include "central/record_store.h"
#include "central/replica_store.h"
#include "central/rocks_db.h"
#include "central/storage.h"
#include "common/clock.h"
#include "common/hlc.h"

namespace kv::central {

// The RocksDB storage engine behind Storage::Open: wires the RocksDb, the
// change log, the HLC (never below the highest stored version), the commit
// queue, the namespace table and the record store; see those classes for
// the details and storage.h for the guarantees.
//
// Thread-safe. Destroy only when no call is in flight.
class StorageEngine final : public Storage {
 public:
  static absl::StatusOr<std::unique_ptr<StorageEngine>> Open(
      const StorageOptions& options, Clock& clock);
  ~StorageEngine() override;

  absl::StatusOr<NamespaceInfo> CreateNamespace(
      absl::string_view account_id, absl::string_view title) override;
  absl::StatusOr<std::vector<NamespaceInfo>> ListNamespaces(
      absl::string_view account_id) override;
  absl::StatusOr<NamespaceInfo> GetNamespace(
      absl::string_view account_id, absl::string_view namespace_id) override;
  absl::StatusOr<NamespaceInfo> RenameNamespace(
      absl::string_view account_id, absl::string_view namespace_id,
      absl::string_view title) override;
  absl::Status DeleteNamespace(absl::string_view account_id,
                               absl::string_view namespace_id) override;

  absl::StatusOr<Version> Put(absl::string_view namespace_id,
                              PutOp op) override;
  absl::StatusOr<Version> PutMany(absl::string_view namespace_id,
                                  std::vector<PutOp> ops) override;
  absl::StatusOr<Version> Delete(absl::string_view namespace_id,
                                 absl::string_view key) override;
  absl::StatusOr<Version> DeleteMany(
      absl::string_view namespace_id,
      const std::vector<std::string>& keys) override;
  void PutManyAsync(absl::string_view namespace_id, std::vector<PutOp> ops,
                    WriteDone done) override;
  void DeleteManyAsync(absl::string_view namespace_id, std::vector<std::string> keys,
                       WriteDone done) override;
  absl::StatusOr<std::optional<Record>> Get(absl::string_view namespace_id,
                                            absl::string_view key) override;
  absl::StatusOr<std::vector<std::optional<Record>>> GetMany(
      absl::string_view namespace_id, const std::vector<std::string>& keys,
      std::vector<Version>* dead_versions = nullptr) override;
  absl::StatusOr<std::vector<std::optional<Version>>> LiveVersions(
      absl::string_view namespace_id, const std::vector<std::string>& keys) override;
  absl::StatusOr<ListPage> List(absl::string_view namespace_id,
                                absl::string_view prefix, uint32_t limit,
                                absl::string_view cursor) override;

  ChangeLog& change_log() override { return *log_; }
  ReplicaStore& replica() override { return *replica_; }
  void SetDurabilityHook(std::function<absl::Status(uint64_t)> hook) override {
    queue_->SetDurabilityHook(std::move(hook));
  }
  void SetAsyncDurabilityHook(AsyncDurabilityHook hook) override {
    queue_->SetAsyncDurabilityHook(std::move(hook));
  }
  void SetNamespaceCoordinator(NamespaceCoordinator* coordinator) override {
    coordinator_ = coordinator;
  }
  void SetReadGate(std::function<absl::Status()> gate) override { read_gate_ = std::move(gate); }
  void SetTombstonePurgeHorizon(absl::Time horizon) override;
  void SetWriteGate(std::function<absl::Status()> gate) override {
    write_gate_ = std::move(gate);
  }
  uint64_t FutureVersions() const override { return queue_->future_versions(); }

  absl::Status Flush() override;
  absl::Status CompactForTesting() override;
  uint64_t WalSyncsForTesting() override;
  std::vector<std::pair<std::string, double>> EngineFigures() override;

  // The latest version issued (tests).
  Version LastVersionForTesting() const { return hlc_->Last(); }

 private:
  StorageEngine() = default;

  // Declared in construction order; destroyed in reverse.
  std::unique_ptr<RocksDb> db_;
  std::unique_ptr<ChangeLogImpl> log_;
  std::unique_ptr<Hlc> hlc_;
  std::unique_ptr<CommitQueue> queue_;
  std::unique_ptr<NamespaceTable> namespaces_;
  std::unique_ptr<RecordStore> records_;
  std::unique_ptr<ReplicaStore> replica_;
  std::function<absl::Status()> read_gate_;
  // Shared with the records' compaction filter.
  std::shared_ptr<std::atomic<int64_t>> purge_horizon_ms_ =
      std::make_shared<std::atomic<int64_t>>(INT64_MAX);
  std::function<absl::Status()> write_gate_;
  NamespaceCoordinator* coordinator_ = nullptr;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_STORAGE_ENGINE_H_
