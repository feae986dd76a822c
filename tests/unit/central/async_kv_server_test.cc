// The central's client API on its completion queue (AsyncKvServer) with
// writes in flight: shutting the node down while puts are queued answers
// every call (no Finish after the queue is shut down, no hang), and every
// put acknowledged OK is in the storage afterwards.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "central/central_node.h"
#include "central/storage.h"
#include "common/clock.h"
#include "gtest/gtest.h"
#include "proto/kv.grpc.pb.h"
#include "tests/harness/eventually.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::central {
namespace {

// One put in flight, reissued with a new key whenever it completes.
struct Slot {
  std::unique_ptr<grpc::ClientContext> context;
  kv::v1::PutRequest request;
  kv::v1::PutResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<kv::v1::PutResponse>> reader;
};

TEST(AsyncKvServerTest, ShutdownWithPutsInFlightAnswersEveryCallAndKeepsAcknowledgedOnes) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<kv::testing::TempDir> dir,
                       kv::testing::TempDir::Create("async-kv-server"));
  CentralOptions options;
  options.storage.data_dir = dir->Path("db");
  options.grpc_addr = "127.0.0.1:0";
  options.dev = true;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CentralNode> node, CentralNode::Start(options));
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", node->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  auto stub = kv::v1::Kv::NewStub(channel);

  kv::v1::CreateNamespaceRequest create;
  create.set_title("async");
  kv::v1::Namespace ns;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub->CreateNamespace(&context, create, &ns).ok());
  }

  constexpr int kInFlight = 32;
  grpc::CompletionQueue cq;
  std::vector<Slot> slots(kInFlight);
  std::atomic<bool> stop = false;
  std::atomic<int> next_key = 0, outstanding = 0, ok = 0, refused = 0, other = 0;
  absl::Mutex mu;
  std::vector<std::string> acknowledged;  // keys answered OK
  std::string first_other;
  auto issue = [&](int i) {
    Slot& slot = slots[i];
    slot.context = std::make_unique<grpc::ClientContext>();
    slot.context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    slot.request.set_namespace_id(ns.id());
    slot.request.set_key(absl::StrCat("key-", next_key.fetch_add(1)));
    slot.request.set_value("v");
    slot.reader = stub->AsyncPut(slot.context.get(), slot.request, &cq);
    outstanding.fetch_add(1);
    slot.reader->Finish(&slot.response, &slot.status, reinterpret_cast<void*>(intptr_t{i}));
  };
  for (int i = 0; i < kInFlight; ++i) issue(i);
  std::thread poller([&] {
    void* tag;
    bool event_ok;
    while (cq.Next(&tag, &event_ok)) {
      const int i = static_cast<int>(reinterpret_cast<intptr_t>(tag));
      Slot& slot = slots[i];
      const grpc::StatusCode code = slot.status.error_code();
      if (code == grpc::StatusCode::OK) {
        ok.fetch_add(1);
        absl::MutexLock lock(&mu);
        acknowledged.push_back(slot.request.key());
      } else if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::CANCELLED) {
        refused.fetch_add(1);
      } else {
        absl::MutexLock lock(&mu);
        if (other.fetch_add(1) == 0) first_other = slot.status.error_message();
      }
      outstanding.fetch_sub(1);
      if (!stop.load()) issue(i);
    }
  });

  ASSERT_EVENTUALLY([&] { ASSERT_GE(ok.load(), 200); }, absl::Seconds(30));
  const absl::Time start = absl::Now();
  node->Shutdown();  // puts still arriving and queued
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  stop = true;
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(outstanding.load(), 0); }, absl::Seconds(30));
  cq.Shutdown();
  poller.join();
  EXPECT_EQ(other.load(), 0) << first_other;
  EXPECT_GT(refused.load(), 0);  // calls arrived after the drain began

  node.reset();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Storage> storage,
                       Storage::Open(options.storage, RealClock::Get()));
  absl::MutexLock lock(&mu);
  for (const std::string& key : acknowledged) {
    ASSERT_OK_AND_ASSIGN(std::optional<Record> record, storage->Get(ns.id(), key));
    ASSERT_TRUE(record.has_value()) << key << " was acknowledged but is missing";
    EXPECT_EQ(record->value, "v");
  }
}

}  // namespace
}  // namespace kv::central
