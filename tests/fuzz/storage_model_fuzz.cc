// Model-based fuzzing of a central's storage engine (central/storage.h): the
// input is a program of record operations (put, delete, their bulk forms,
// get, bulk get, a whole paged list, clock steps, flush, compaction) run
// against the real Storage (RocksDB, every column family, the hash
// memtable, the key index) and against a std::map. After every step the
// two must agree:
//  - Get and GetMany return exactly the model's live records (value,
//    metadata, expiration); expired and deleted keys are absent;
//  - a list, paged to its end with the cursors it returns, yields the
//    model's live keys with that prefix, in byte order, each once, with
//    their expiration and metadata; every page holds at most `limit` keys,
//    and a page is complete exactly when it has no cursor.
// Keys are 1-3 bytes over "ab/", NUL and 0xff, so that they collide, nest
// as prefixes and reach the edges of prefix arithmetic. Every input gets a
// namespace of its own in one long-lived Storage (opened afresh every 256
// inputs), so that a run goes fast and RocksDB's state carries over
// (flushed files, compactions) as in a real central.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "central/storage.h"
#include "common/clock.h"
#include "tests/fuzz/byte_reader.h"
#include "tests/fuzz/fuzz_check.h"

namespace kv::central {
namespace {

// The program's operands.
class Program : public ByteReader {
 public:
  using ByteReader::ByteReader;
  std::string Key() {
    static constexpr char kAlphabet[] = {'a', 'b', '/', '\0', '\xff'};
    const int length = 1 + Byte() % 3;
    std::string key;
    for (int i = 0; i < length; ++i) key.push_back(kAlphabet[Byte() % sizeof(kAlphabet)]);
    return key;
  }
  std::string Prefix() {
    std::string key = Key();
    return key.substr(0, Byte() % 3);  // "", one or two bytes
  }
};

// A wall clock the program moves.
class StepClock final : public Clock {
 public:
  absl::Time TimeNow() override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  absl::Duration MonotonicNow() override {
    absl::MutexLock lock(&mu_);
    return now_ - absl::UnixEpoch();
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  absl::Mutex mu_;
  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
};

struct ModelRecord {
  std::string value;
  std::optional<std::string> metadata;
  int64_t expiration = 0;
};

// The Storage every input runs against, reopened on a fresh dir now and
// then.
struct Engine {
  StepClock clock;
  std::string dir;
  std::unique_ptr<Storage> storage;
  int inputs = 0;

  Storage& Next() {
    if (storage == nullptr || ++inputs % 256 == 0) {
      storage.reset();
      if (!dir.empty()) std::filesystem::remove_all(dir);
      char pattern[] = "/tmp/kv-storage-fuzz-XXXXXX";
      KV_FUZZ_CHECK(mkdtemp(pattern) != nullptr);
      dir = pattern;
      StorageOptions options;
      options.data_dir = dir + "/db";
      options.sync_writes = false;  // a crash is not what is tested here
      options.min_blob_bytes = 6;   // some values go to blob files
      absl::StatusOr<std::unique_ptr<Storage>> opened = Storage::Open(options, clock);
      KV_FUZZ_CHECK(opened.ok());
      storage = std::move(*opened);
    }
    return *storage;
  }
  // Closes the storage and removes its dir.
  void Close() {
    storage.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
    dir.clear();
  }
};

// The process' engine, opened on first use. Closed at exit by a handler
// registered after that first open, so that it runs before RocksDB's own
// statics (its default Env, constructed by the open) are destroyed.
Engine* the_engine = nullptr;

Engine& TheEngine() {
  if (the_engine == nullptr) {
    the_engine = new Engine();
    the_engine->Next();
    KV_FUZZ_CHECK(std::atexit([] { the_engine->Close(); }) == 0);
  }
  return *the_engine;
}

class Run {
 public:
  Run(Engine& engine, const std::string& ns) : engine_(engine), storage_(*engine.storage), ns_(ns) {}

  void Step(Program& program) {
    switch (program.Byte() % 10) {
      case 0:
        Put(program, 1);
        break;
      case 1: {
        const std::string key = program.Key();
        KV_FUZZ_CHECK(storage_.Delete(ns_, key).ok());
        model_.erase(key);
        break;
      }
      case 2:
        Put(program, 1 + program.Byte() % 4);
        break;
      case 3: {
        std::vector<std::string> keys(1 + program.Byte() % 4);
        for (std::string& key : keys) key = program.Key();
        KV_FUZZ_CHECK(storage_.DeleteMany(ns_, keys).ok());
        for (const std::string& key : keys) model_.erase(key);
        break;
      }
      case 4:
        CheckGet({program.Key()});
        break;
      case 5: {
        std::vector<std::string> keys(1 + program.Byte() % 4);
        for (std::string& key : keys) key = program.Key();
        CheckGet(keys);
        break;
      }
      case 6:
      case 7: {
        const std::string prefix = program.Prefix();
        CheckList(prefix, 1 + program.Byte() % 4);
        break;
      }
      case 8:
        engine_.clock.Advance(absl::Seconds(program.Byte() % 64));
        break;
      default:
        if (program.Byte() % 2 == 0) {
          KV_FUZZ_CHECK(storage_.Flush().ok());
        } else {
          KV_FUZZ_CHECK(storage_.CompactForTesting().ok());
        }
        break;
    }
  }

  // Everything the model holds, read back.
  void CheckAll() {
    std::vector<std::string> keys;
    for (const auto& [key, record] : model_) keys.push_back(key);
    if (!keys.empty()) CheckGet(keys);
    CheckList("", 1000);
  }

 private:
  int64_t NowSeconds() { return absl::ToUnixSeconds(engine_.clock.TimeNow()); }
  bool Live(const ModelRecord& record) {
    return record.expiration == 0 || NowSeconds() < record.expiration;
  }

  void Put(Program& program, int count) {
    std::vector<PutOp> ops(count);
    for (PutOp& op : ops) {
      op.key = program.Key();
      op.value = std::string(program.Byte() % 12, static_cast<char>(program.Byte()));
      if (program.Byte() % 2 == 0) op.metadata = absl::StrCat("{\"m\":", program.Byte(), "}");
      const uint8_t ttl = program.Byte() % 4;
      op.expiration = ttl == 0 ? 0 : NowSeconds() + ttl * 20;
    }
    const absl::StatusOr<Version> version =
        count == 1 ? storage_.Put(ns_, ops[0]) : storage_.PutMany(ns_, ops);
    KV_FUZZ_CHECK(version.ok());
    for (const PutOp& op : ops) model_[op.key] = {op.value, op.metadata, op.expiration};
  }

  void CheckGet(const std::vector<std::string>& keys) {
    absl::StatusOr<std::vector<std::optional<Record>>> got = storage_.GetMany(ns_, keys);
    KV_FUZZ_CHECK(got.ok() && got->size() == keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      auto it = model_.find(keys[i]);
      const bool live = it != model_.end() && Live(it->second);
      KV_FUZZ_CHECK((*got)[i].has_value() == live);
      if (live) {
        KV_FUZZ_CHECK((*got)[i]->value == it->second.value);
        KV_FUZZ_CHECK((*got)[i]->metadata == it->second.metadata);
        KV_FUZZ_CHECK((*got)[i]->expiration == it->second.expiration);
      }
    }
    absl::StatusOr<std::optional<Record>> one = storage_.Get(ns_, keys[0]);
    KV_FUZZ_CHECK(one.ok() && one->has_value() == (*got)[0].has_value());
  }

  void CheckList(const std::string& prefix, uint32_t limit) {
    std::vector<ListedRecord> listed;
    std::string cursor;
    for (int page = 0;; ++page) {
      KV_FUZZ_CHECK(page <= static_cast<int>(model_.size()) + 1);  // it ends
      absl::StatusOr<ListPage> got = storage_.List(ns_, prefix, limit, cursor);
      KV_FUZZ_CHECK(got.ok());
      KV_FUZZ_CHECK(got->keys.size() <= limit);
      KV_FUZZ_CHECK(got->complete == got->cursor.empty());
      for (ListedRecord& record : got->keys) listed.push_back(std::move(record));
      if (got->complete) break;
      cursor = got->cursor;
    }
    size_t i = 0;
    for (const auto& [key, record] : model_) {
      if (key.compare(0, prefix.size(), prefix) != 0 || !Live(record)) continue;
      KV_FUZZ_CHECK(i < listed.size());
      KV_FUZZ_CHECK(listed[i].key == key);
      KV_FUZZ_CHECK(listed[i].expiration == record.expiration);
      KV_FUZZ_CHECK(listed[i].metadata == record.metadata);
      ++i;
    }
    KV_FUZZ_CHECK(i == listed.size());
  }

  Engine& engine_;
  Storage& storage_;
  const std::string ns_;
  std::map<std::string, ModelRecord> model_;
};

}  // namespace
}  // namespace kv::central

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace kv::central;  // NOLINT
  Engine* engine = &TheEngine();
  Storage& storage = engine->Next();
  // A namespace per input, in an account per input (the per-account limit).
  const std::string account = absl::StrCat("fuzz", engine->inputs);
  absl::StatusOr<NamespaceInfo> ns = storage.CreateNamespace(account, "t");
  KV_FUZZ_CHECK(ns.ok());
  {
    Run run(*engine, ns->id);
    Program program(data, size);
    for (int steps = 0; !program.done() && steps < 64; ++steps) run.Step(program);
    run.CheckAll();
  }
  KV_FUZZ_CHECK(storage.DeleteNamespace(account, ns->id).ok());
  return 0;
}
