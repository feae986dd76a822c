// The central side of the invalidation streams (DESIGN §4.3): Hello and
// resume, contiguous event batches, heartbeats, bounded per-stream queues,
// cancellation, auth and shutdown. A real Storage in a temp dir, the service
// on a localhost gRPC server (port 0) and real client stubs.
#include "central/invalidation_service.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "central/central_node.h"
#include "central/stream_hub.h"
#include "common/async_unary_call.h"
#include "common/auth.h"
#include "common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/invalidation.grpc.pb.h"
#include "tests/harness/eventually.h"
#include "tests/unit/central/storage_test_fixture.h"

namespace kv::central {
namespace {

using ::testing::HasSubstr;
using kv::v1::ChangeEvent;
using kv::v1::InvalidationMessage;

constexpr char kEdgeToken[] = "edge-token-0123456789";
constexpr char kWriteToken[] = "write-token-0123456789";

// One subscription as an edge sees it: a thread reads every message (until
// started, nothing is read: a stalled edge).
class StreamClient {
 public:
  struct HeartbeatSeen {
    kv::v1::Heartbeat heartbeat;
    // The last event sequence received before it (start_sequence - 1 if none).
    uint64_t last_delivered = 0;
    absl::Time received;
  };

  StreamClient(kv::v1::Invalidation::Stub& stub, const kv::v1::ResumeToken& resume,
               const std::string& token, bool start_reading = true) {
    kv::v1::SubscribeRequest request;
    *request.mutable_resume() = resume;
    request.set_edge_id("test-edge");
    if (!token.empty()) context_.AddMetadata("authorization", absl::StrCat("Bearer ", token));
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    reader_ = stub.Subscribe(&context_, request);
    if (start_reading) StartReading();
  }

  ~StreamClient() {
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }

  void StartReading() {
    thread_ = std::thread([this] {
      InvalidationMessage message;
      while (reader_->Read(&message)) {
        absl::MutexLock lock(&mu_);
        ++messages_;
        if (message.has_hello()) {
          if (!hello_.has_value()) {
            hello_ = message.hello();
            last_ = message.hello().start_sequence() - 1;
          } else {
            errors_.push_back("second Hello");
          }
        } else if (!hello_.has_value()) {
          errors_.push_back("message before Hello");
        } else if (message.has_batch()) {
          if (message.batch().events_size() == 0) errors_.push_back("empty batch");
          ++batches_;
          for (const ChangeEvent& event : message.batch().events()) {
            if (event.sequence() != last_ + 1) {
              errors_.push_back(absl::StrCat("gap: ", last_, " then ", event.sequence()));
            }
            last_ = event.sequence();
            events_.push_back(event);
          }
        } else if (message.has_heartbeat()) {
          heartbeats_.push_back({message.heartbeat(), last_, absl::Now()});
        }
      }
      grpc::Status status = reader_->Finish();
      absl::MutexLock lock(&mu_);
      status_ = status;
    });
  }

  void Cancel() { context_.TryCancel(); }

  std::optional<kv::v1::Hello> WaitForHello(absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return hello_.has_value() || status_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    return hello_;
  }
  // True once an event with sequence >= `sequence` arrived.
  bool WaitForSequence(uint64_t sequence, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto ready = [this, sequence]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return (hello_.has_value() && last_ >= sequence) || status_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    return hello_.has_value() && last_ >= sequence;
  }
  bool WaitForHeartbeats(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto ready = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return heartbeats_.size() >= n || status_.has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    return heartbeats_.size() >= n;
  }
  std::optional<grpc::Status> WaitForStatus(absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return status_.has_value(); };
    mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
    return status_;
  }

  std::vector<ChangeEvent> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  std::vector<HeartbeatSeen> heartbeats() {
    absl::MutexLock lock(&mu_);
    return heartbeats_;
  }
  std::vector<std::string> errors() {
    absl::MutexLock lock(&mu_);
    return errors_;
  }
  uint64_t last_sequence() {
    absl::MutexLock lock(&mu_);
    return last_;
  }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<InvalidationMessage>> reader_;
  std::thread thread_;

  absl::Mutex mu_;
  std::optional<kv::v1::Hello> hello_ ABSL_GUARDED_BY(mu_);
  std::vector<ChangeEvent> events_ ABSL_GUARDED_BY(mu_);
  std::vector<HeartbeatSeen> heartbeats_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
  uint64_t last_ ABSL_GUARDED_BY(mu_) = 0;
  int messages_ ABSL_GUARDED_BY(mu_) = 0;
  int batches_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<grpc::Status> status_ ABSL_GUARDED_BY(mu_);
};

// A Storage (StorageTest: node 7, namespace ns_ created at sequence 1) with
// the invalidation service on a localhost port. The hub runs on the real
// clock (heartbeats), the storage on the simulated one.
class InvalidationTest : public StorageTest {
 protected:
  void TearDown() override {
    StopServer();
    StorageTest::TearDown();
  }

  void StartServer(StreamOptions options,
                   std::unique_ptr<TokenAuthenticator> auth = TokenAuthenticator::Open("acct"),
                   const grpc::ChannelArguments& channel_args = grpc::ChannelArguments()) {
    auth_ = std::move(auth);
    hub_ = std::make_unique<StreamHub>(storage_->change_log(), options_.node_id,
                                       RealClock::Get(), std::move(options));
    hub_->Start();
    service_ = std::make_unique<InvalidationService>(*hub_, *storage_, *auth_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(service_->service());
    cq_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
    service_->Start(cq_.get());
    // Two threads, as the central polls its queue.
    for (int i = 0; i < 2; ++i) {
      pollers_.emplace_back([this] { PollCompletionQueue(*cq_); });
    }
    stub_ = NewStub(channel_args);
  }

  std::unique_ptr<kv::v1::Invalidation::Stub> NewStub(
      const grpc::ChannelArguments& args = grpc::ChannelArguments()) {
    return kv::v1::Invalidation::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials(), args));
  }

  void StopServer() {
    if (server_ == nullptr) return;
    hub_->FinishAll(absl::UnavailableError("test server stopping"));
    hub_->WaitForStreamsDone(absl::Seconds(5));
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    service_->Shutdown();  // every call ended: nothing starts on the queue after this
    cq_->Shutdown();
    for (std::thread& poller : pollers_) poller.join();
    pollers_.clear();
    hub_->Stop();
    server_.reset();
    service_.reset();
    hub_.reset();
  }

  static StreamOptions FastOptions() {
    StreamOptions options;
    options.heartbeat_interval = absl::Milliseconds(50);
    return options;
  }

  kv::v1::ResumeToken Token(uint64_t sequence, uint32_t central_id = 7,
                            std::string incarnation = "") {
    kv::v1::ResumeToken token;
    token.set_central_id(central_id);
    token.set_incarnation(incarnation.empty() ? storage_->change_log().incarnation()
                                              : incarnation);
    token.set_sequence(sequence);
    return token;
  }

  uint64_t Last() { return storage_->change_log().LastSequence(); }

  std::unique_ptr<TokenAuthenticator> auth_;
  std::unique_ptr<StreamHub> hub_;
  std::unique_ptr<InvalidationService> service_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::vector<std::thread> pollers_;
  int port_ = 0;
  std::unique_ptr<kv::v1::Invalidation::Stub> stub_;
};

TEST_F(InvalidationTest, FreshSubscribeStreamsLiveEvents) {
  ASSERT_NO_FATAL_FAILURE(StartServer(FastOptions()));
  const uint64_t before = Last();
  ASSERT_GE(before, 1u);  // the namespace
  StreamClient client(*stub_, kv::v1::ResumeToken(), "");
  std::optional<kv::v1::Hello> hello = client.WaitForHello();
  ASSERT_TRUE(hello.has_value());
  EXPECT_FALSE(hello->resumed());
  EXPECT_EQ(hello->central_id(), 7u);
  EXPECT_EQ(hello->incarnation(), storage_->change_log().incarnation());
  EXPECT_EQ(hello->start_sequence(), before + 1);
  EXPECT_EQ(hello->head_sequence(), before);

  const Version small = Put("small", "v1", 0, std::string("{\"m\":1}"));
  const std::string big_value(options_.inline_value_bytes + 1, 'x');
  Put("big", big_value);
  Delete("small");
  ASSERT_OK_AND_ASSIGN(NamespaceInfo other, storage_->CreateNamespace("acct", "other"));
  ASSERT_OK(storage_->RenameNamespace("acct", other.id, "renamed").status());
  ASSERT_OK(storage_->DeleteNamespace("acct", other.id));
  const uint64_t last = Last();
  ASSERT_GE(last, before + 6);

  ASSERT_TRUE(client.WaitForSequence(last));
  EXPECT_THAT(client.errors(), ::testing::IsEmpty());
  std::vector<ChangeEvent> events = client.events();
  ASSERT_EQ(events.size(), last - before);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].sequence(), before + 1 + i);

  const ChangeEvent& put = events[0];
  EXPECT_EQ(put.kind(), ChangeEvent::PUT);
  EXPECT_EQ(put.namespace_id(), ns_);
  EXPECT_EQ(put.key(), "small");
  EXPECT_EQ(Version::FromProto(put.version()), small);
  EXPECT_GT(put.commit_time_ms(), 0);
  EXPECT_TRUE(put.value_included());
  EXPECT_EQ(put.value(), "v1");
  ASSERT_TRUE(put.has_metadata());
  EXPECT_EQ(put.metadata(), "{\"m\":1}");

  EXPECT_EQ(events[1].kind(), ChangeEvent::PUT);
  EXPECT_EQ(events[1].key(), "big");
  EXPECT_FALSE(events[1].value_included());
  EXPECT_TRUE(events[1].value().empty());

  EXPECT_EQ(events[2].kind(), ChangeEvent::DELETE);
  EXPECT_EQ(events[2].key(), "small");
  EXPECT_GT(Version::FromProto(events[2].version()), small);

  EXPECT_EQ(events[3].kind(), ChangeEvent::NAMESPACE_CREATE);
  EXPECT_EQ(events[3].namespace_id(), other.id);
  EXPECT_TRUE(events[3].value().empty());  // no StoredNamespace to edges
  EXPECT_FALSE(events[3].value_included());
  EXPECT_EQ(events[4].kind(), ChangeEvent::NAMESPACE_RENAME);
  EXPECT_EQ(events[4].namespace_id(), other.id);
  EXPECT_TRUE(events[4].value().empty());
  EXPECT_EQ(events.back().kind(), ChangeEvent::NAMESPACE_DELETE);
  EXPECT_EQ(events.back().namespace_id(), other.id);
  EXPECT_TRUE(events.back().value().empty());
}

TEST_F(InvalidationTest, ResumeFromTheMiddleReplaysExactlyTheRest) {
  ASSERT_NO_FATAL_FAILURE(StartServer(FastOptions()));
  for (int i = 0; i < 20; ++i) Put(absl::StrCat("k", i), absl::StrCat("v", i));
  const uint64_t last = Last();
  const uint64_t from = last - 8;

  StreamClient client(*stub_, Token(from), "");
  std::optional<kv::v1::Hello> hello = client.WaitForHello();
  ASSERT_TRUE(hello.has_value());
  EXPECT_TRUE(hello->resumed());
  EXPECT_EQ(hello->start_sequence(), from + 1);
  EXPECT_EQ(hello->head_sequence(), last);
  ASSERT_TRUE(client.WaitForSequence(last));
  // Caught up: a heartbeat follows, so nothing more is coming.
  ASSERT_TRUE(client.WaitForHeartbeats(1));
  std::vector<ChangeEvent> events = client.events();
  ASSERT_EQ(events.size(), 8u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].sequence(), from + 1 + i);
    EXPECT_EQ(events[i].key(), absl::StrCat("k", 12 + i));
    EXPECT_EQ(events[i].value(), absl::StrCat("v", 12 + i));
  }
  EXPECT_THAT(client.errors(), ::testing::IsEmpty());

  // At the head: resumed with nothing to replay; from 0: everything.
  StreamClient at_head(*stub_, Token(last), "");
  hello = at_head.WaitForHello();
  ASSERT_TRUE(hello.has_value());
  EXPECT_TRUE(hello->resumed());
  EXPECT_EQ(hello->start_sequence(), last + 1);
  StreamClient from_zero(*stub_, Token(0), "");
  hello = from_zero.WaitForHello();
  ASSERT_TRUE(hello.has_value());
  EXPECT_TRUE(hello->resumed());
  EXPECT_EQ(hello->start_sequence(), 1u);
  ASSERT_TRUE(from_zero.WaitForSequence(last));
  EXPECT_EQ(from_zero.events().size(), last);

  // Beyond the head (a token from the future): not resumed.
  StreamClient future(*stub_, Token(last + 5), "");
  hello = future.WaitForHello();
  ASSERT_TRUE(hello.has_value());
  EXPECT_FALSE(hello->resumed());
  EXPECT_EQ(hello->start_sequence(), last + 1);
}

TEST_F(InvalidationTest, ResumeFromAnotherIncarnationOrCentralIsNotResumed) {
  ASSERT_NO_FATAL_FAILURE(StartServer(FastOptions()));
  for (int i = 0; i < 5; ++i) Put(absl::StrCat("k", i), "v");
  uint64_t last = Last();
  for (const kv::v1::ResumeToken& token :
       {Token(2, 7, "another-incarnation"), Token(2, 8), Token(2, 0)}) {
    SCOPED_TRACE(token.DebugString());
    StreamClient client(*stub_, token, "");
    std::optional<kv::v1::Hello> hello = client.WaitForHello();
    ASSERT_TRUE(hello.has_value());
    EXPECT_FALSE(hello->resumed());
    EXPECT_EQ(hello->start_sequence(), last + 1);
    EXPECT_EQ(hello->head_sequence(), last);
    EXPECT_EQ(hello->central_id(), 7u);
    // Live from there on.
    Put("live", "x");
    ASSERT_TRUE(client.WaitForSequence(last + 1));
    EXPECT_EQ(client.events().front().sequence(), last + 1);
    last = Last();
  }
}

TEST_F(InvalidationTest, ResumeBelowTheTrimmedLogIsNotResumed) {
  ASSERT_NO_FATAL_FAILURE(StartServer(FastOptions()));
  for (int i = 0; i < 5; ++i) Put(absl::StrCat("k", i), "v");
  clock_.Advance(absl::Hours(2));
  Put("recent", "v");
  ASSERT_OK_AND_ASSIGN(uint64_t trimmed, storage_->change_log().TrimAppliedBefore(
                                             clock_.TimeNow() - absl::Minutes(1)));
  ASSERT_GT(trimmed, 0u);
  const uint64_t first = storage_->change_log().FirstSequence();
  const uint64_t last = Last();
  ASSERT_GT(first, 2u);

  StreamClient old(*stub_, Token(first - 2), "");
  std::optional<kv::v1::Hello> hello = old.WaitForHello();
  ASSERT_TRUE(hello.has_value());
  EXPECT_FALSE(hello->resumed());
  EXPECT_EQ(hello->start_sequence(), last + 1);

  // Right below the first retained entry still resumes.
  StreamClient edge(*stub_, Token(first - 1), "");
  hello = edge.WaitForHello();
  ASSERT_TRUE(hello.has_value());
  EXPECT_TRUE(hello->resumed());
  EXPECT_EQ(hello->start_sequence(), first);
  ASSERT_TRUE(edge.WaitForSequence(last));
  EXPECT_EQ(edge.events().front().sequence(), first);
}

TEST_F(InvalidationTest, HeartbeatsAtTheIntervalClaimOnlyWhatWasDelivered) {
  ASSERT_NO_FATAL_FAILURE(StartServer(FastOptions()));
  StreamClient client(*stub_, kv::v1::ResumeToken(), "");
  ASSERT_TRUE(client.WaitForHello().has_value());
  // Writes keep coming while heartbeats go out.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      Put(absl::StrCat("hb", i % 50), "v");
      absl::SleepFor(absl::Milliseconds(2));
    }
  });
  const bool enough = client.WaitForHeartbeats(12, absl::Seconds(20));
  stop = true;
  writer.join();
  ASSERT_TRUE(enough);
  EXPECT_THAT(client.errors(), ::testing::IsEmpty());
  std::vector<StreamClient::HeartbeatSeen> heartbeats = client.heartbeats();
  for (size_t i = 0; i < heartbeats.size(); ++i) {
    const StreamClient::HeartbeatSeen& seen = heartbeats[i];
    SCOPED_TRACE(absl::StrCat("heartbeat ", i));
    EXPECT_EQ(seen.heartbeat.head_sequence(), seen.last_delivered);
    EXPECT_GT(seen.heartbeat.complete_as_of_ms(), 0);
    EXPECT_LE(seen.heartbeat.complete_as_of_ms(), seen.heartbeat.central_time_ms());
    if (i > 0) {
      EXPECT_GE(seen.heartbeat.head_sequence(), heartbeats[i - 1].heartbeat.head_sequence());
      // Not faster than the interval (minus scheduling slack on the client).
      EXPECT_GE(seen.heartbeat.complete_as_of_ms(),
                heartbeats[i - 1].heartbeat.complete_as_of_ms() + 45);
    }
  }
  // And at the interval, not much slower: 11 intervals of 50 ms.
  const absl::Duration span = heartbeats.back().received - heartbeats.front().received;
  EXPECT_LT(span, absl::Seconds(4));
}

TEST_F(InvalidationTest, CompleteAsOfHookCapsHeartbeats) {
  StreamOptions options = FastOptions();
  const absl::Time cap = absl::FromUnixMillis(1'600'000'000'000);
  options.complete_as_of = [cap] { return cap; };
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  StreamClient client(*stub_, kv::v1::ResumeToken(), "");
  ASSERT_TRUE(client.WaitForHeartbeats(2));
  for (const StreamClient::HeartbeatSeen& seen : client.heartbeats()) {
    EXPECT_EQ(seen.heartbeat.complete_as_of_ms(), absl::ToUnixMillis(cap));
    EXPECT_GT(seen.heartbeat.central_time_ms(), absl::ToUnixMillis(cap));
  }
}

TEST_F(InvalidationTest, ConcurrentStreamsSeeIdenticalSequences) {
  StreamOptions options = FastOptions();
  options.batch_entries = 7;  // many batches
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  const uint64_t before = Last();
  std::vector<std::unique_ptr<StreamClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<StreamClient>(*stub_, Token(before), ""));
    ASSERT_TRUE(clients.back()->WaitForHello().has_value());
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([this, w] {
      for (int i = 0; i < 150; ++i) {
        Put(absl::StrCat("w", w, "-", i % 20), absl::StrCat(i));
        if (i % 10 == 0) Delete(absl::StrCat("w", w, "-", i % 7));
      }
    });
  }
  for (std::thread& t : writers) t.join();
  const uint64_t last = Last();
  ASSERT_EQ(last, before + 2 * (150 + 15));
  for (auto& client : clients) ASSERT_TRUE(client->WaitForSequence(last));
  const std::vector<ChangeEvent> reference = clients[0]->events();
  ASSERT_EQ(reference.size(), last - before);
  for (auto& client : clients) {
    EXPECT_THAT(client->errors(), ::testing::IsEmpty());
    const std::vector<ChangeEvent> events = client->events();
    ASSERT_EQ(events.size(), reference.size());
    for (size_t i = 0; i < events.size(); ++i) {
      ASSERT_EQ(events[i].SerializeAsString(), reference[i].SerializeAsString()) << i;
    }
  }
}

TEST_F(InvalidationTest, StalledClientIsBoundedAndToldToResume) {
  StreamOptions options = FastOptions();  // too slow after 10 × 50 ms
  options.queue_bytes = 64 << 10;
  options.batch_entries = 16;
  ASSERT_NO_FATAL_FAILURE(StartServer(options));
  // A client connection that grants little flow-control window.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 16 << 10);
  std::unique_ptr<kv::v1::Invalidation::Stub> stub = NewStub(args);
  const uint64_t before = Last();
  StreamClient client(*stub, Token(before), "", /*start_reading=*/false);
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(hub_->stream_count(), 1); });

  const std::string value(900, 'v');
  int batches = 0;
  for (; batches < 100 && hub_->too_slow_total() == 0; ++batches) {
    std::vector<PutOp> ops;
    for (int i = 0; i < 100; ++i) {
      PutOp op;
      op.key = absl::StrCat("slow", i);
      op.value = value;
      ops.push_back(std::move(op));
    }
    ASSERT_OK(storage_->PutMany(ns_, std::move(ops)).status());
    for (const StreamStats& stats : hub_->Stats()) {
      ASSERT_LE(stats.queued_bytes, options.queue_bytes);
      ASSERT_LE(stats.queued_entries, options.queue_entries);
    }
  }
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(hub_->too_slow_total(), 1u); });
  EXPECT_LE(hub_->max_queued_bytes(), options.queue_bytes);
  EXPECT_GT(hub_->max_queued_bytes(), options.queue_bytes / 2);  // it did fill up
  // Its queue is dropped at once; the call itself ends once the status can
  // go out (after what is already in gRPC's hands).
  for (const StreamStats& stats : hub_->Stats()) EXPECT_EQ(stats.queued_bytes, 0u);

  // The edge reads again: what was in flight, then the status.
  client.StartReading();
  std::optional<grpc::Status> status = client.WaitForStatus();
  ASSERT_TRUE(status.has_value());
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(hub_->stream_count(), 0); });
  EXPECT_EQ(status->error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status->error_message(), HasSubstr("stream too slow; reconnect and resume"));
  EXPECT_THAT(client.errors(), ::testing::IsEmpty());
  EXPECT_LT(client.last_sequence(), Last());

  // Resuming where it stopped replays the rest.
  StreamClient resumed(*stub_, Token(client.last_sequence()), "");
  std::optional<kv::v1::Hello> hello = resumed.WaitForHello();
  ASSERT_TRUE(hello.has_value());
  EXPECT_TRUE(hello->resumed());
  ASSERT_TRUE(resumed.WaitForSequence(Last(), absl::Seconds(30)));
  EXPECT_THAT(resumed.errors(), ::testing::IsEmpty());
}

TEST_F(InvalidationTest, CancelledClientLeavesTheHub) {
  ASSERT_NO_FATAL_FAILURE(StartServer(FastOptions()));
  auto client = std::make_unique<StreamClient>(*stub_, kv::v1::ResumeToken(), "");
  ASSERT_TRUE(client->WaitForHello().has_value());
  ASSERT_EQ(hub_->stream_count(), 1);
  client->Cancel();
  std::optional<grpc::Status> status = client->WaitForStatus();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(hub_->stream_count(), 0); });
  ASSERT_EVENTUALLY([&] { ASSERT_TRUE(hub_->Stats().empty()); });
  client.reset();
  // Writes after that are fine (nobody to send them to).
  Put("after", "v");
  EXPECT_EQ(hub_->subscribed_total(), 1u);
}

TEST_F(InvalidationTest, NeedsAnEdgeToken) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TokenAuthenticator> auth,
                       TokenAuthenticator::FromText(absl::StrCat(
                           kEdgeToken, " acct edge\n", kWriteToken, " acct write\n")));
  ASSERT_NO_FATAL_FAILURE(StartServer(FastOptions(), std::move(auth)));
  {
    StreamClient anonymous(*stub_, kv::v1::ResumeToken(), "");
    std::optional<grpc::Status> status = anonymous.WaitForStatus();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_FALSE(anonymous.WaitForHello(absl::ZeroDuration()).has_value());
  }
  {
    StreamClient unknown(*stub_, kv::v1::ResumeToken(), "no-such-token-0123456789");
    std::optional<grpc::Status> status = unknown.WaitForStatus();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    StreamClient writer(*stub_, kv::v1::ResumeToken(), kWriteToken);
    std::optional<grpc::Status> status = writer.WaitForStatus();
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_FALSE(writer.WaitForHello(absl::ZeroDuration()).has_value());
  }
  EXPECT_EQ(hub_->subscribed_total(), 0u);
  StreamClient edge(*stub_, kv::v1::ResumeToken(), kEdgeToken);
  ASSERT_TRUE(edge.WaitForHello().has_value());
  ASSERT_TRUE(edge.WaitForHeartbeats(1));
}

// Revalidate answers each key's live version in order: found with the
// stored version, not found for absent, deleted and expired keys and for a
// namespace that does not exist; it needs an edge token and refuses more
// than 1000 keys, or a central whose read gate is closed.
TEST_F(InvalidationTest, RevalidateAnswersCurrentVersions) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TokenAuthenticator> auth,
                       TokenAuthenticator::FromText(absl::StrCat(
                           kEdgeToken, " acct edge\n", kWriteToken, " acct write\n")));
  ASSERT_NO_FATAL_FAILURE(StartServer(FastOptions(), std::move(auth)));
  const Version live = Put("live", "v");
  Put("deleted", "v");
  Delete("deleted");
  Put("expiring", "v", absl::ToUnixSeconds(clock_.TimeNow()) + 60);
  clock_.Advance(absl::Seconds(61));
  const Version again = Put("live2", "v");

  kv::v1::RevalidateRequest request;
  for (const char* key : {"live", "absent", "deleted", "expiring", "live2"}) {
    kv::v1::RevalidateRequest::Key* k = request.add_keys();
    k->set_namespace_id(ns_);
    k->set_key(key);
  }
  kv::v1::RevalidateRequest::Key* other = request.add_keys();
  other->set_namespace_id(std::string(32, 'f'));
  other->set_key("live");
  auto call = [&](const std::string& token, const kv::v1::RevalidateRequest& r,
                  kv::v1::RevalidateResponse* response) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
    return stub_->Revalidate(&context, r, response);
  };

  kv::v1::RevalidateResponse response;
  grpc::Status status = call(kEdgeToken, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.keys_size(), 6);
  EXPECT_TRUE(response.keys(0).found());
  EXPECT_EQ(Version::FromProto(response.keys(0).version()), live);
  for (int i : {1, 2, 3, 5}) EXPECT_FALSE(response.keys(i).found()) << i;
  EXPECT_TRUE(response.keys(4).found());
  EXPECT_EQ(Version::FromProto(response.keys(4).version()), again);

  response.Clear();
  EXPECT_EQ(call(kWriteToken, request, &response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(call("", request, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);

  kv::v1::RevalidateRequest too_many;
  for (int i = 0; i <= InvalidationService::kMaxRevalidateKeys; ++i) {
    kv::v1::RevalidateRequest::Key* k = too_many.add_keys();
    k->set_namespace_id(ns_);
    k->set_key(absl::StrCat("k", i));
  }
  status = call(kEdgeToken, too_many, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("at most 1000 keys, got 1001"));

  storage_->SetReadGate([] { return absl::UnavailableError("not complete"); });
  status = call(kEdgeToken, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  storage_->SetReadGate(nullptr);
}

// A StreamWriter that records; the test completes writes by hand.
class FakeWriter final : public StreamWriter {
 public:
  void SendMessage(const InvalidationMessage& message) override {
    absl::MutexLock lock(&mu_);
    messages_.push_back(message);
  }
  void SendFinish(const absl::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
  }
  std::vector<InvalidationMessage> messages() {
    absl::MutexLock lock(&mu_);
    return messages_;
  }
  std::optional<absl::Status> status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  absl::Mutex mu_;
  std::vector<InvalidationMessage> messages_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> status_ ABSL_GUARDED_BY(mu_);
};

// The hub driven by RunOnce (no pump thread, no gRPC): deterministic.
TEST_F(InvalidationTest, HubTrimmedPositionWhileStreamingFinishesOutOfRange) {
  for (int i = 0; i < 5; ++i) Put(absl::StrCat("k", i), "v");
  StreamHub hub(storage_->change_log(), options_.node_id, clock_, FastOptions());
  FakeWriter writer;
  kv::v1::SubscribeRequest request;
  *request.mutable_resume() = Token(1);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<HubStream> stream, hub.Subscribe(request, &writer));
  stream->Run();
  ASSERT_EQ(writer.messages().size(), 1u);
  ASSERT_TRUE(writer.messages()[0].hello().resumed());
  // The log is trimmed before the pump gets to read sequence 2.
  clock_.Advance(absl::Hours(2));
  Put("recent", "v");
  ASSERT_OK(storage_->change_log().TrimAppliedBefore(clock_.TimeNow() - absl::Minutes(1))
                .status());
  ASSERT_GT(storage_->change_log().FirstSequence(), 2u);
  stream->OnWriteDone(true);
  EXPECT_FALSE(hub.RunOnce());
  std::optional<absl::Status> status = writer.status();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(status->message()), HasSubstr("trimmed"));
  EXPECT_EQ(writer.messages().size(), 1u);
  EXPECT_EQ(hub.stream_count(), 1);
  stream->Detach();  // OnDone
  EXPECT_EQ(hub.stream_count(), 0);
  hub.RunOnce();
  EXPECT_TRUE(hub.Stats().empty());
}

// One write in flight; batches bounded; heartbeat only once caught up and
// after the events it covers.
TEST_F(InvalidationTest, HubBatchesAndHeartbeatsInOrder) {
  for (int i = 0; i < 20; ++i) Put(absl::StrCat("k", i), "v");
  StreamOptions options = FastOptions();
  options.batch_entries = 8;
  StreamHub hub(storage_->change_log(), options_.node_id, clock_, options);
  FakeWriter writer;
  kv::v1::SubscribeRequest request;
  *request.mutable_resume() = Token(0);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<HubStream> stream, hub.Subscribe(request, &writer));
  const uint64_t last = Last();  // 21
  EXPECT_TRUE(hub.RunOnce());    // queues 8 (a read is at most a batch), sends the Hello
  ASSERT_EQ(writer.messages().size(), 1u);
  stream->OnWriteDone(true);  // -> first batch in flight
  ASSERT_EQ(writer.messages().size(), 2u);
  EXPECT_EQ(writer.messages()[1].batch().events_size(), 8);
  while (hub.RunOnce()) {
  }
  // Behind until every event is queued; no second write while one is in flight.
  EXPECT_EQ(writer.messages().size(), 2u);
  uint64_t expected = 1;
  for (int i = 0; i < 10 && !writer.messages().back().has_heartbeat(); ++i) {
    stream->OnWriteDone(true);
    hub.RunOnce();
  }
  std::vector<InvalidationMessage> messages = writer.messages();
  ASSERT_TRUE(messages.back().has_heartbeat());
  for (size_t i = 1; i + 1 < messages.size(); ++i) {
    ASSERT_TRUE(messages[i].has_batch()) << i;
    EXPECT_LE(messages[i].batch().events_size(), 8);
    for (const ChangeEvent& event : messages[i].batch().events()) {
      EXPECT_EQ(event.sequence(), expected++);
    }
  }
  EXPECT_EQ(expected, last + 1);
  EXPECT_EQ(messages.back().heartbeat().head_sequence(), last);
  EXPECT_EQ(messages.back().heartbeat().complete_as_of_ms(),
            messages.back().heartbeat().central_time_ms());  // simulated clock: same time
  // No second heartbeat before the interval; one after it.
  stream->OnWriteDone(true);
  hub.RunOnce();
  EXPECT_EQ(writer.messages().size(), messages.size());
  clock_.Advance(absl::Milliseconds(50));
  hub.RunOnce();
  ASSERT_EQ(writer.messages().size(), messages.size() + 1);
  EXPECT_TRUE(writer.messages().back().has_heartbeat());
  hub.FinishAll(absl::UnavailableError("bye"));
  ASSERT_TRUE(writer.status().has_value());
  EXPECT_EQ(writer.status()->code(), absl::StatusCode::kUnavailable);
  stream->OnWriteDone(true);
  stream->Detach();
  EXPECT_TRUE(hub.WaitForStreamsDone(absl::ZeroDuration()));
}

TEST(InvalidationNodeTest, ShutdownFinishesStreamsPromptly) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<kv::testing::TempDir> dir,
                       kv::testing::TempDir::Create("stream-node"));
  CentralOptions options;
  options.storage.data_dir = dir->Path("db");
  options.storage.node_id = 3;
  options.grpc_addr = "127.0.0.1:0";
  options.dev = true;
  options.streams.heartbeat_interval = absl::Milliseconds(50);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CentralNode> node, CentralNode::Start(options));
  auto stub = kv::v1::Invalidation::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", node->grpc_port()), grpc::InsecureChannelCredentials()));
  StreamClient client(*stub, kv::v1::ResumeToken(), "");
  std::optional<kv::v1::Hello> hello = client.WaitForHello();
  ASSERT_TRUE(hello.has_value());
  EXPECT_EQ(hello->central_id(), 3u);
  ASSERT_TRUE(client.WaitForHeartbeats(1));
  ASSERT_EQ(node->stream_hub().stream_count(), 1);

  const absl::Time start = absl::Now();
  node->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  std::optional<grpc::Status> status = client.WaitForStatus();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->error_code(), grpc::StatusCode::UNAVAILABLE) << status->error_message();
  EXPECT_THAT(status->error_message(), HasSubstr("shutting down"));
}

}  // namespace
}  // namespace kv::central
