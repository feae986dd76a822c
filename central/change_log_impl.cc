#include "central/change_log_impl.h"

#include <algorithm>
#include <utility>

#include "absl/base/internal/endian.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "central/meta_keys.h"
#include "common/random_id.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"

namespace kv::central {
namespace {

using kv::storage::v1::ChangeEntry;

bool AtLeast(std::pair<const std::atomic<uint64_t>*, uint64_t>* arg) {
  return arg->first->load() >= arg->second;
}

bool NoCallsInFlight(int* calls) { return *calls == 0; }

absl::Status MalformedKey(absl::string_view key) {
  return absl::DataLossError(
      absl::StrCat("change log: malformed key of ", key.size(), " bytes"));
}

}  // namespace

std::string ChangeLogImpl::SequenceKey(uint64_t sequence) {
  std::string key(8, '\0');
  absl::big_endian::Store64(key.data(), sequence);
  return key;
}

std::optional<uint64_t> ChangeLogImpl::ParseSequenceKey(absl::string_view key) {
  if (key.size() != 8) return std::nullopt;
  return absl::big_endian::Load64(key.data());
}

absl::StatusOr<std::unique_ptr<ChangeLogImpl>> ChangeLogImpl::Open(
    RocksDb& db) {
  absl::StatusOr<std::optional<std::string>> stored =
      db.Get(db.meta(), kMetaIncarnationKey);
  if (!stored.ok()) return stored.status();
  std::string incarnation;
  if (stored->has_value() && !(*stored)->empty()) {
    incarnation = **stored;
  } else {
    // A new data dir (or one whose id was lost: a new incarnation only makes
    // readers resume by time, which is always safe).
    incarnation = RandomHexId();
    rocksdb::WriteBatch batch;
    batch.Put(db.meta(), kMetaIncarnationKey, incarnation);
    absl::Status s = db.Write(batch, /*sync=*/true);
    if (!s.ok()) return s;
  }

  uint64_t first = 1;
  uint64_t last = 0;
  std::unique_ptr<rocksdb::Iterator> it =
      db.NewIterator(db.changelog(), rocksdb::ReadOptions());
  it->SeekToFirst();
  if (it->Valid()) {
    std::optional<uint64_t> seq =
        ParseSequenceKey(absl::string_view(it->key().data(), it->key().size()));
    if (!seq || *seq == 0)
      return MalformedKey(
          absl::string_view(it->key().data(), it->key().size()));
    first = *seq;
    it->SeekToLast();
    if (!it->Valid())
      return absl::DataLossError("change log: last entry vanished");
    seq =
        ParseSequenceKey(absl::string_view(it->key().data(), it->key().size()));
    if (!seq || *seq < first)
      return MalformedKey(
          absl::string_view(it->key().data(), it->key().size()));
    last = *seq;
  }
  absl::Status s = RocksDb::IteratorStatus(*it);
  if (!s.ok()) return s;
  return std::unique_ptr<ChangeLogImpl>(
      new ChangeLogImpl(db, std::move(incarnation), first, last));
}

ChangeLogImpl::ChangeLogImpl(RocksDb& db, std::string incarnation,
                             uint64_t first, uint64_t last)
    : db_(db),
      incarnation_(std::move(incarnation)),
      last_sequence_(last),
      first_sequence_(first) {}

uint64_t ChangeLogImpl::LastSequence() const { return last_sequence_.load(); }

uint64_t ChangeLogImpl::FirstSequence() const {
  return std::min(first_sequence_.load(), last_sequence_.load() + 1);
}

absl::StatusOr<std::vector<SequencedChange>> ChangeLogImpl::Read(
    uint64_t from, size_t max_entries, size_t max_bytes) {
  std::vector<SequencedChange> out;
  if (from < FirstSequence()) {
    return absl::OutOfRangeError(absl::StrCat(
        "change log sequence ", from,
        " has been trimmed; the first retained is ", FirstSequence()));
  }
  const uint64_t last = LastSequence();
  if (from > last || max_entries == 0) return out;

  const std::string upper = SequenceKey(last + 1);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it =
      db_.NewIterator(db_.changelog(), options);
  size_t bytes = 0;
  uint64_t expected = from;
  for (it->Seek(SequenceKey(from)); it->Valid() && out.size() < max_entries;
       it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    std::optional<uint64_t> seq = ParseSequenceKey(key);
    if (!seq) return MalformedKey(key);
    if (*seq != expected) break;  // a gap: judged below
    const rocksdb::Slice value = it->value();
    if (!out.empty() && bytes + value.size() > max_bytes) return out;
    SequencedChange change;
    change.sequence = *seq;
    if (!change.entry.ParseFromArray(value.data(),
                                     static_cast<int>(value.size()))) {
      return absl::DataLossError(
          absl::StrCat("change log: entry ", *seq, " is malformed"));
    }
    bytes += value.size();
    out.push_back(std::move(change));
    ++expected;
  }
  absl::Status s = RocksDb::IteratorStatus(*it);
  if (!s.ok()) return s;
  if (out.empty()) {
    // `from` <= last, yet its entry is not there.
    if (from < FirstSequence()) {
      // Trimmed between the check above and the iterator's snapshot.
      return absl::OutOfRangeError(absl::StrCat(
          "change log sequence ", from,
          " has been trimmed; the first retained is ", FirstSequence()));
    }
    return absl::DataLossError(
        absl::StrCat("change log: entry ", from, " is missing"));
  }
  return out;
}

absl::StatusOr<ChangeLog::TimePosition> ChangeLogImpl::FindAppliedAtOrAfter(
    int64_t apply_time_ms) {
  TimePosition out;
  uint64_t lo = FirstSequence();
  uint64_t hi = LastSequence() + 1;  // answer in [lo, hi]
  auto apply_time_of = [&](uint64_t sequence) -> absl::StatusOr<std::optional<int64_t>> {
    absl::StatusOr<std::vector<SequencedChange>> entries = Read(sequence, 1, 1);
    if (!entries.ok()) return entries.status();
    if (entries->empty()) return std::optional<int64_t>();
    return std::optional<int64_t>((*entries)[0].entry.apply_time_ms());
  };
  // Covered only when the first retained entry was applied at or before the
  // time: a log created later (a new data dir) cannot vouch for what came
  // before it, even from sequence 1.
  if (lo < hi) {
    absl::StatusOr<std::optional<int64_t>> first = apply_time_of(lo);
    if (absl::IsOutOfRange(first.status())) {
      lo = FirstSequence();  // trimmed meanwhile: not covered
    } else if (!first.ok()) {
      return first.status();
    } else {
      out.covered = first->has_value() && **first <= apply_time_ms;
    }
  }
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    absl::StatusOr<std::optional<int64_t>> t = apply_time_of(mid);
    if (absl::IsOutOfRange(t.status())) {
      lo = mid + 1;
      out.covered = false;
      continue;
    }
    if (!t.ok()) return t.status();
    if (!t->has_value() || **t >= apply_time_ms) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  out.sequence = lo;
  return out;
}

uint64_t ChangeLogImpl::WaitFor(uint64_t sequence, absl::Duration timeout) {
  std::pair<const std::atomic<uint64_t>*, uint64_t> arg(&last_sequence_,
                                                        sequence);
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&AtLeast, &arg), timeout);
  return last_sequence_.load();
}

int ChangeLogImpl::AddListener(std::function<void(uint64_t)> listener) {
  absl::MutexLock lock(&listeners_mu_);
  const int id = next_listener_id_++;
  listeners_.emplace(id, std::make_shared<const Listener>(std::move(listener)));
  return id;
}

void ChangeLogImpl::RemoveListener(int id) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(id);
  if (calls_in_flight_ > 0 && calling_thread_ == std::this_thread::get_id())
    return;
  listeners_mu_.Await(absl::Condition(&NoCallsInFlight, &calls_in_flight_));
}

void ChangeLogImpl::Publish(uint64_t last_sequence) {
  {
    absl::MutexLock lock(&mu_);
    if (last_sequence > last_sequence_.load())
      last_sequence_.store(last_sequence);
  }
  std::vector<std::shared_ptr<const Listener>> listeners;
  {
    absl::MutexLock lock(&listeners_mu_);
    if (listeners_.empty()) return;
    listeners.reserve(listeners_.size());
    for (const auto& [id, listener] : listeners_) listeners.push_back(listener);
    ++calls_in_flight_;
    calling_thread_ = std::this_thread::get_id();
  }
  for (const std::shared_ptr<const Listener>& listener : listeners)
    (*listener)(last_sequence);
  absl::MutexLock lock(&listeners_mu_);
  --calls_in_flight_;
}

absl::StatusOr<uint64_t> ChangeLogImpl::TrimAppliedBefore(absl::Time cutoff) {
  absl::MutexLock lock(&trim_mu_);
  const uint64_t first = FirstSequence();
  const uint64_t last = LastSequence();
  if (last == 0 || first >= last) return 0;
  const int64_t cutoff_ms = absl::ToUnixMillis(cutoff);

  // Never consider the last entry: it is always kept.
  const std::string upper = SequenceKey(last);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it =
      db_.NewIterator(db_.changelog(), options);
  uint64_t stop = first;
  ChangeEntry entry;
  for (it->Seek(SequenceKey(first)); it->Valid(); it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    std::optional<uint64_t> seq = ParseSequenceKey(key);
    if (!seq) return MalformedKey(key);
    if (!entry.ParseFromArray(it->value().data(),
                              static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("change log: entry ", *seq, " is malformed"));
    }
    if (entry.apply_time_ms() >= cutoff_ms) break;
    stop = *seq + 1;
  }
  absl::Status s = RocksDb::IteratorStatus(*it);
  if (!s.ok()) return s;
  if (stop <= first) return 0;

  // Readers that see the new FirstSequence get OUT_OF_RANGE; a reader that
  // passed the old one and then finds the gap re-checks it (see Read).
  first_sequence_.store(stop);
  rocksdb::WriteBatch batch;
  batch.DeleteRange(db_.changelog(), SequenceKey(first), SequenceKey(stop));
  // Not synced: trimmed entries that reappear after a crash are trimmed again.
  s = db_.Write(batch, /*sync=*/false);
  if (!s.ok()) return s;
  return stop - first;
}

}  // namespace kv::central
