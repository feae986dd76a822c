// Crash safety: a SIGKILLed kv-central loses no acknowledged write, and a
// SIGTERMed one exits 0 and keeps its data.
//
// KV_SIGKILL_RUNS (default 1) repeats the SIGKILL scenarios, each run on a
// fresh node: `KV_SIGKILL_RUNS=20 ctest -R Durability`.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "tests/integration/itest_util.h"

namespace kv::testing {
namespace {

constexpr int kThreads = 8;
constexpr int kKeys = 1000;

int SigkillRuns() {
  const char* env = getenv("KV_SIGKILL_RUNS");
  int runs = 1;
  if (env != nullptr && (!absl::SimpleAtoi(env, &runs) || runs < 1)) runs = 1;
  return runs;
}

// Distinct values of varied sizes: small ones inline, some past the blob
// threshold (4 KiB by default), one up to 64 KiB.
std::string ValueFor(int run, int i) {
  size_t size = (i % 10 == 0) ? 4096 + (i * 37) % 60000 : (i * 13) % 700;
  std::string value = absl::StrFormat("run%d-value%05d:", run, i);
  value += RandomBytes(size, static_cast<uint64_t>(run) * 100000 + i);
  return value;
}

class DurabilityTest : public CentralFixture {
 protected:
  // Writes with kThreads threads until `stop_after_acks` puts are acked
  // (all of the kKeys keys when stop_after_acks == kKeys). Returns every
  // acknowledged (key, value); `in_flight` gets the puts that were sent but
  // not acknowledged when writing stopped.
  void WriteConcurrently(const std::string& ns, int run, int stop_after_acks,
                         std::map<std::string, std::string>* acked,
                         std::map<std::string, std::string>* in_flight,
                         absl::Notification* enough) {
    std::atomic<int> next{0};
    std::atomic<int> acks{0};
    absl::Mutex mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        // One channel per thread: concurrent connections, not one stream.
        auto stub = kv::v1::Kv::NewStub(NewKvChannel(central_->grpc_addr()));
        while (true) {
          const int i = next.fetch_add(1);
          if (i >= kKeys || enough->HasBeenNotified()) return;
          const std::string key = absl::StrFormat("t%d/key-%05d", t, i);
          const std::string value = ValueFor(run, i);
          {
            absl::MutexLock lock(&mu);
            (*in_flight)[key] = value;
          }
          kv::v1::PutRequest request;
          request.set_namespace_id(ns);
          request.set_key(key);
          request.set_value(value);
          if (i % 3 == 0) request.set_metadata(absl::StrCat(R"({"i":)", i, "}"));
          kv::v1::PutResponse response;
          grpc::Status status = stub->Put(NewClientContext(token_).get(), request, &response);
          if (!status.ok()) return;  // the node was killed
          absl::MutexLock lock(&mu);
          in_flight->erase(key);
          (*acked)[key] = value;
          if (acks.fetch_add(1) + 1 >= stop_after_acks && !enough->HasBeenNotified()) {
            enough->Notify();
          }
        }
      });
    }
    if (stop_after_acks < kKeys) {
      // Kill while the other threads still write.
      const bool reached = enough->WaitForNotificationWithTimeout(absl::Seconds(120));
      const absl::Status killed = central_->Kill();
      for (std::thread& thread : threads) thread.join();
      ASSERT_OK(killed);
      ASSERT_TRUE(reached) << "only " << acks.load() << " acknowledgements";
    } else {
      for (std::thread& thread : threads) thread.join();
      // Right after the last acknowledgement.
      ASSERT_OK(central_->Kill());
    }
  }

  // After a restart: every acknowledged key byte-exact; every in-flight one
  // either absent or exact.
  void Verify(const std::string& ns, const std::map<std::string, std::string>& acked,
              const std::map<std::string, std::string>& in_flight) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : acked) keys.push_back(key);
    int mismatches = 0;
    for (size_t start = 0; start < keys.size(); start += 100) {
      std::vector<std::string> batch(keys.begin() + start,
                                     keys.begin() + std::min(keys.size(), start + 100));
      ASSERT_OK_AND_ASSIGN(kv::v1::GetResponse response, GetMany(ns, batch, true));
      for (const kv::v1::Entry& entry : response.entries()) {
        const std::string& expected = acked.at(entry.key());
        if (!entry.found() || entry.value() != expected) {
          if (++mismatches <= 10) {
            ADD_FAILURE() << "acknowledged key " << entry.key()
                          << (entry.found() ? " has a different value" : " is missing");
          }
        }
      }
    }
    EXPECT_EQ(mismatches, 0) << "of " << acked.size() << " acknowledged keys";
    for (const auto& [key, value] : in_flight) {
      std::string got = Get(ns, key);
      EXPECT_TRUE(got == "<not found>" || got == value) << "in-flight key " << key;
    }
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListNames(ns));
    EXPECT_GE(names.size(), acked.size());
    EXPECT_LE(names.size(), acked.size() + in_flight.size());
  }

  void RunSigkill(int stop_after_acks) {
    const int runs = SigkillRuns();
    for (int run = 0; run < runs; ++run) {
      SCOPED_TRACE(absl::StrCat("SIGKILL run ", run + 1, " of ", runs));
      ASSERT_NO_FATAL_FAILURE(StartCentral());
      const std::string ns = MustCreateNamespace(absl::StrCat("durability-", run));
      ASSERT_FALSE(ns.empty());
      std::map<std::string, std::string> acked;
      std::map<std::string, std::string> in_flight;
      absl::Notification enough;
      ASSERT_NO_FATAL_FAILURE(
          WriteConcurrently(ns, run, stop_after_acks, &acked, &in_flight, &enough));
      ASSERT_GE(static_cast<int>(acked.size()), stop_after_acks);
      ASSERT_EQ(central_->process()->exit_status()->signal, SIGKILL);

      ASSERT_OK(central_->StartAgain());
      Reconnect();
      ASSERT_NO_FATAL_FAILURE(Verify(ns, acked, in_flight));
      // The namespace itself survived too.
      ASSERT_OK_AND_ASSIGN(kv::v1::Namespace got, GetNamespace(ns));
      EXPECT_EQ(got.title(), absl::StrCat("durability-", run));
      if (HasFailure()) return;
      // Next run: a fresh node in a fresh directory.
      central_.reset();
      dir_.reset();
      ASSERT_OK_AND_ASSIGN(dir_, TempDir::Create("kv-itest"));
    }
  }
};

TEST_F(DurabilityTest, SigkillAfterLastAckLosesNothing) { RunSigkill(kKeys); }

TEST_F(DurabilityTest, SigkillDuringWritesLosesNoAcknowledgedWrite) { RunSigkill(kKeys / 2); }

TEST_F(DurabilityTest, SigtermExitsZeroAndRestartKeepsData) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  const std::string ns = MustCreateNamespace("sigterm");
  for (int i = 0; i < 50; ++i) {
    ASSERT_OK(Put(ns, absl::StrCat("k", i), ValueFor(0, i),
                  {.metadata = absl::StrCat(R"({"i":)", i, "}")}));
  }
  ASSERT_OK(Delete(ns, "k7"));
  ASSERT_OK(central_->Stop());  // SIGTERM, exit 0 within the deadline
  EXPECT_TRUE(central_->process()->exit_status()->Exited(0));

  ASSERT_OK(central_->StartAgain());
  Reconnect();
  for (int i = 0; i < 50; ++i) {
    if (i == 7) {
      EXPECT_EQ(Get(ns, "k7"), "<not found>");
      continue;
    }
    ASSERT_OK_AND_ASSIGN(kv::v1::Entry entry, GetEntry(ns, absl::StrCat("k", i)));
    EXPECT_EQ(entry.value(), ValueFor(0, i));
    EXPECT_EQ(entry.metadata(), absl::StrCat(R"({"i":)", i, "}"));
  }
  // Writes keep working after the restart, and versions keep increasing.
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry before, GetEntry(ns, "k1"));
  ASSERT_OK(Put(ns, "k1", "new"));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry after, GetEntry(ns, "k1"));
  EXPECT_GT(std::make_tuple(after.version().physical_ms(), after.version().logical()),
            std::make_tuple(before.version().physical_ms(), before.version().logical()));

  // Restart() = SIGTERM + start again.
  ASSERT_OK(central_->Restart());
  Reconnect();
  EXPECT_EQ(Get(ns, "k1"), "new");
}

TEST_F(DurabilityTest, PausedNodeResumes) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  const std::string ns = MustCreateNamespace("pause");
  ASSERT_OK(Put(ns, "k", "v"));
  ASSERT_OK(central_->Pause());
  // A paused node does not answer within a short deadline.
  kv::v1::GetRequest request;
  request.set_namespace_id(ns);
  request.add_keys("k");
  kv::v1::GetResponse response;
  EXPECT_THAT(stub_->Get(NewClientContext(token_, absl::Milliseconds(300)).get(), request, &response),
              StatusIs(grpc::StatusCode::DEADLINE_EXCEEDED));
  ASSERT_OK(central_->Resume());
  EXPECT_EQ(Get(ns, "k"), "v");
}

}  // namespace
}  // namespace kv::testing
