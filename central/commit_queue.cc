#include "central/commit_queue.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "central/meta_keys.h"
#include "common/logging.h"
#include "common/thread_pool.h"
#include "common/status_macros.h"

namespace kv::central {
namespace {

// A group led by a small write grows by at most this much, so small writes
// are not slowed down by large ones (as in LevelDB).
constexpr size_t kSmallWriteBytes = size_t{128} << 10;

// The calling thread's open CommitBatch, if any.
thread_local CommitBatch* t_batch = nullptr;

}  // namespace

CommitBatch::CommitBatch() {
  CHECK(t_batch == nullptr) << "CommitBatch does not nest";
  t_batch = this;
}

CommitBatch::~CommitBatch() {
  Flush();
  t_batch = nullptr;
}

void CommitBatch::Flush() {
  // Closed while leading: the callbacks of the group (on this thread) may
  // enqueue more writes, which then lead or queue as usual.
  t_batch = nullptr;
  std::vector<CommitQueue*> queues;
  queues.swap(queues_);
  deferred_ = 0;
  for (CommitQueue* queue : queues) queue->LeadDeferred();
  t_batch = this;
}

CommitQueue::CommitQueue(const Options& options, RocksDb& db,
                         ChangeLogImpl& log, Hlc& hlc, Clock& clock)
    : options_(options),
      db_(db),
      log_(log),
      hlc_(hlc),
      clock_(clock),
      next_sequence_(log.LastSequence() + 1),
      last_written_(log.LastSequence()) {
  committer_ = std::thread([this] {
    NameThisThread("kv-commit");
    CommitterLoop();
  });
}

CommitQueue::~CommitQueue() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    committer_cv_.Signal();
  }
  committer_.join();
}

absl::StatusOr<std::vector<Version>> CommitQueue::Commit(Request&& request) {
  Writer self(&request);
  bool lead = false;
  {
    absl::MutexLock lock(&mu_);
    writers_.push_back(&self);
    if (!leader_active_) {
      leader_active_ = true;
      lead = true;
    } else {
      while (!self.done && !self.lead) self.cv.Wait(&mu_);
      lead = !self.done;
    }
  }
  if (lead) Lead(&self);
  if (!self.status.ok()) return self.status;
  if (request.await_replicas && durability_hook_) {
    KV_RETURN_IF_ERROR(durability_hook_(self.last_sequence));
  }
  return std::move(self.versions);
}

void CommitQueue::CommitAsync(Request request, Done done) {
  auto* writer = new Writer(nullptr);
  writer->owned.emplace(std::move(request));
  writer->request = &*writer->owned;
  writer->async_done = std::move(done);
  bool lead = false;
  {
    absl::MutexLock lock(&mu_);
    writers_.push_back(writer);
    if (!leader_active_) {
      if (t_batch != nullptr) {
        // The batch's Flush leads (unless another writer does first).
        ++t_batch->deferred_;
        if (std::find(t_batch->queues_.begin(), t_batch->queues_.end(), this) ==
            t_batch->queues_.end()) {
          t_batch->queues_.push_back(this);
        }
        return;
      }
      leader_active_ = true;
      lead = true;
    }
  }
  if (lead) Lead(writer);  // `writer` is deleted once complete
}

void CommitQueue::LeadDeferred() {
  {
    absl::MutexLock lock(&mu_);
    if (leader_active_ || writers_.empty()) return;  // led, or being led
    leader_active_ = true;
  }
  Lead(nullptr, /*one_group=*/true);
}

void CommitQueue::CommitterLoop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      while (!committer_lead_ && !stopping_) committer_cv_.Wait(&mu_);
      if (!committer_lead_) return;  // stopping, nothing handed over
      committer_lead_ = false;
    }
    Lead(nullptr);
  }
}

void CommitQueue::Lead(Writer* own, bool one_group) {
  bool own_done = false;
  while (true) {
    std::vector<Writer*> group;
    {
      absl::MutexLock lock(&mu_);
      if (writers_.empty()) {
        leader_active_ = false;
        return;
      }
      if (own_done) {
        // Hand the rest on: to the next blocked Commit caller, else to the
        // committer thread. leader_active_ stays true.
        Writer* next = writers_.front();
        if (!next->async_done) {
          next->lead = true;
          next->cv.Signal();
        } else {
          committer_lead_ = true;
          committer_cv_.Signal();
        }
        return;
      }
      group = TakeGroup();
    }
    if ((LeadGroup(group, own) && own != nullptr) || one_group) own_done = true;
  }
}

bool CommitQueue::LeadGroup(const std::vector<Writer*>& group, const Writer* own) {
  std::optional<uint64_t> published;
  {
    absl::MutexLock lock(&leader_mu_);
    published = CommitGroup(group);
  }
  if (published) {
    // Still the leader (the group is not popped yet), but holding no lock:
    // hooks and listeners run before the next group is prepared.
    for (Writer* writer : group) {
      if (writer->status.ok() && writer->request->on_commit) {
        writer->request->on_commit(writer->versions);
      }
      if (writer->status.ok() && writer->request->on_logged && writer->first_logged != 0)
        writer->request->on_logged(writer->first_logged, writer->last_logged);
    }
    log_.Publish(*published);
  }

  bool own_in_group = false;
  std::vector<Writer*> async_writers;
  {
    absl::MutexLock lock(&mu_);
    for (Writer* writer : group) {
      CHECK(!writers_.empty() && writers_.front() == writer);
      writers_.pop_front();
      if (writer == own) own_in_group = true;
      if (writer->async_done) {
        async_writers.push_back(writer);
      } else {
        writer->done = true;
        writer->cv.Signal();
      }
    }
  }
  // Completed outside the lock: the callbacks may enqueue more writes.
  for (Writer* writer : async_writers) CompleteAsync(writer);
  return own_in_group;
}

void CommitQueue::CompleteAsync(Writer* writer) {
  std::unique_ptr<Writer> owned(writer);
  Done done = std::move(writer->async_done);
  if (!writer->status.ok()) {
    std::move(done)(std::move(writer->status));
    return;
  }
  if (!writer->request->await_replicas ||
      (!async_durability_hook_ && !durability_hook_)) {
    std::move(done)(std::move(writer->versions));
    return;
  }
  if (!async_durability_hook_) {
    absl::Status s = durability_hook_(writer->last_sequence);
    if (s.ok()) {
      std::move(done)(std::move(writer->versions));
    } else {
      std::move(done)(std::move(s));
    }
    return;
  }
  async_durability_hook_(
      writer->last_sequence,
      [done = std::move(done), versions = std::move(writer->versions)](absl::Status s) mutable {
        if (s.ok()) {
          std::move(done)(std::move(versions));
        } else {
          std::move(done)(std::move(s));
        }
      });
}

std::vector<CommitQueue::Writer*> CommitQueue::TakeGroup() {
  Writer* first = writers_.front();
  std::vector<Writer*> group = {first};
  if (first->request->exclusive) return group;
  size_t bytes = first->request->bytes;
  size_t entries = first->request->entries.size();
  size_t max_bytes = options_.max_group_bytes;
  if (bytes <= kSmallWriteBytes)
    max_bytes = std::min(max_bytes, bytes + kSmallWriteBytes);
  for (auto it = writers_.begin() + 1; it != writers_.end(); ++it) {
    const Request& next = *(*it)->request;
    if (next.exclusive) break;
    if (bytes + next.bytes > max_bytes) break;
    if (entries + next.entries.size() > options_.max_group_entries) break;
    bytes += next.bytes;
    entries += next.entries.size();
    group.push_back(*it);
  }
  return group;
}

std::optional<uint64_t> CommitQueue::CommitGroup(
    const std::vector<Writer*>& group) {
  rocksdb::WriteBatch batch;
  uint64_t sequence = next_sequence_;
  const absl::Time apply_time = clock_.TimeNow();
  const int64_t apply_time_ms = absl::ToUnixMillis(apply_time);
  const int64_t apply_time_us = absl::ToUnixMicros(apply_time);
  std::vector<Writer*> included;
  included.reserve(group.size());
  Version max_version;

  for (Writer* writer : group) {
    Request& request = *writer->request;
    if (request.entries.empty() || !request.prepare) {
      writer->status =
          absl::InternalError("commit request without entries or prepare");
      continue;
    }
    std::vector<Version> versions;
    versions.reserve(request.entries.size());
    if (request.versions_given) {
      for (const kv::storage::v1::ChangeEntry& entry : request.entries)
        versions.push_back(Version::FromProto(entry.version()));
      request.skip.assign(request.entries.size(), false);
    } else {
      for (size_t i = 0; i < request.entries.size(); ++i)
        versions.push_back(hlc_.Now());
    }

    batch.SetSavePoint();
    absl::Status s = request.prepare(versions, batch);
    if (!s.ok()) {
      writer->status = std::move(s);
      if (!batch.RollbackToSavePoint().ok()) {
        // Cannot happen (a save point was set); refuse the whole group
        // rather than write a batch we cannot vouch for.
        for (Writer* w : group)
          w->status = absl::InternalError("write batch rollback failed");
        return std::nullopt;
      }
      continue;
    }
    if (!batch.PopSavePoint().ok()) {
      for (Writer* w : group)
        w->status = absl::InternalError("write batch save point lost");
      return std::nullopt;
    }
    const uint64_t writer_first = sequence;
    for (size_t i = 0; i < request.entries.size(); ++i) {
      kv::storage::v1::ChangeEntry& entry = request.entries[i];
      if (request.versions_given) {
        if (request.skip[i]) continue;
        if (hlc_.Observe(versions[i], options_.max_clock_offset).ok()) {
          max_version = std::max(max_version, versions[i]);
        } else {
          future_versions_.fetch_add(1);
        }
        entry.set_apply_time_ms(apply_time_ms);
        batch.Put(db_.changelog(), ChangeLogImpl::SequenceKey(sequence++),
                  entry.SerializeAsString());
        continue;
      }
      versions[i].ToProto(entry.mutable_version());
      entry.set_commit_time_ms(static_cast<int64_t>(versions[i].physical_ms));
      // Local writes commit now; the version's ms may run ahead of the
      // clock by a few ticks (HLC), so take the later of the two.
      entry.set_commit_time_us(std::max<int64_t>(
          apply_time_us, static_cast<int64_t>(versions[i].physical_ms) * 1000));
      entry.set_apply_time_ms(apply_time_ms);
      batch.Put(db_.changelog(), ChangeLogImpl::SequenceKey(sequence++),
                entry.SerializeAsString());
    }
    if (sequence > writer_first) {
      writer->first_logged = writer_first;
      writer->last_logged = sequence - 1;
    }
    if (!request.versions_given) max_version = std::max(max_version, versions.back());
    writer->versions = std::move(versions);
    included.push_back(writer);
  }
  if (included.empty()) return std::nullopt;
  if (max_version != Version()) {
    batch.Put(db_.meta(), kMetaMaxVersionKey,
              EncodeMetaVersion(std::max(max_version, hlc_.Last())));
  }

  absl::Status s = options_.write_error_for_testing
                       ? options_.write_error_for_testing()
                       : absl::OkStatus();
  if (s.ok()) s = db_.Write(batch, options_.sync);
  if (!s.ok()) {
    LOG(ERROR) << "commit of " << included.size() << " writers failed: " << s;
    for (Writer* writer : included) {
      writer->status = s;
      writer->versions.clear();
    }
    // next_sequence_ unchanged: the next group reuses the numbers.
    return std::nullopt;
  }
  next_sequence_ = sequence;
  last_written_ = sequence - 1;
  for (Writer* writer : included) writer->last_sequence = last_written_;
  return last_written_;
}

}  // namespace kv::central
