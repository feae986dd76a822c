// AsyncHealthService (grpc.health.v1 on a completion queue) and
// CqStreamReader (a blocking stream reader whose events come through that
// queue), as the edge wires them: one queue, one thread dispatching CqCalls,
// the client call's events on the server's queue.
#include "common/async_health_service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "edge/cq_call.h"
#include "edge/cq_stream_reader.h"

namespace kv::edge {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class AsyncHealthServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(health_.service());
    builder.SetOption(health_.BuilderOption());
    cq_ = builder.AddCompletionQueue();
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    health_.Start(cq_.get());
    poller_ = std::thread([this] {
      void* tag;
      bool ok;
      while (cq_->Next(&tag, &ok)) static_cast<CqCall*>(tag)->Proceed(ok);
    });
    stub_ = Health::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    cq_->Shutdown();
    poller_.join();
  }

  // Check's status code and, when OK, the serving status.
  std::pair<grpc::StatusCode, HealthCheckResponse::ServingStatus> Check(const std::string& name) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    HealthCheckRequest request;
    request.set_service(name);
    HealthCheckResponse response;
    grpc::Status status = stub_->Check(&context, request, &response);
    return {status.error_code(), response.status()};
  }

  // A Watch of `name` read through the server's queue.
  std::unique_ptr<CqStreamReader<HealthCheckResponse>> Watch(grpc::ClientContext& context,
                                                             const std::string& name) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    HealthCheckRequest request;
    request.set_service(name);
    return std::make_unique<CqStreamReader<HealthCheckResponse>>(
        cq_.get(), [&](grpc::CompletionQueue* cq) {
          return stub_->PrepareAsyncWatch(&context, request, cq);
        });
  }

  static HealthCheckResponse::ServingStatus Next(CqStreamReader<HealthCheckResponse>& reader) {
    HealthCheckResponse response;
    if (!reader.Read(&response)) return static_cast<HealthCheckResponse::ServingStatus>(-1);
    return response.status();
  }

  AsyncHealthService health_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<grpc::Server> server_;
  std::thread poller_;
  std::unique_ptr<Health::Stub> stub_;
};

TEST_F(AsyncHealthServiceTest, CheckAnswersLikeTheDefaultService) {
  EXPECT_EQ(Check(""), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));
  EXPECT_EQ(Check("kv.v1.Kv").first, grpc::StatusCode::NOT_FOUND);
  // The server's health interface is this service.
  server_->GetHealthCheckService()->SetServingStatus(false);
  EXPECT_EQ(Check(""), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::NOT_SERVING));
  server_->GetHealthCheckService()->SetServingStatus("kv.v1.Kv", true);
  EXPECT_EQ(Check("kv.v1.Kv"), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));
  server_->GetHealthCheckService()->SetServingStatus(true);
  EXPECT_EQ(Check(""), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));
}

TEST_F(AsyncHealthServiceTest, WatchSendsEveryChangeAndEndsAtShutdown) {
  grpc::ClientContext whole_context, named_context;
  auto whole = Watch(whole_context, "");
  auto named = Watch(named_context, "kv.v1.Kv");
  EXPECT_EQ(Next(*whole), HealthCheckResponse::SERVING);
  EXPECT_EQ(Next(*named), HealthCheckResponse::SERVICE_UNKNOWN);

  health_.SetServingStatus(false);
  EXPECT_EQ(Next(*whole), HealthCheckResponse::NOT_SERVING);
  health_.SetServingStatus("kv.v1.Kv", true);
  EXPECT_EQ(Next(*named), HealthCheckResponse::SERVING);
  health_.SetServingStatus("", true);
  EXPECT_EQ(Next(*whole), HealthCheckResponse::SERVING);

  server_->GetHealthCheckService()->Shutdown();
  EXPECT_EQ(Next(*whole), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Next(*named), HealthCheckResponse::NOT_SERVING);
  HealthCheckResponse ignored;
  EXPECT_FALSE(whole->Read(&ignored));
  EXPECT_FALSE(named->Read(&ignored));
  EXPECT_EQ(whole->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(named->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  // Changes after the shutdown are ignored.
  health_.SetServingStatus(true);
  EXPECT_EQ(Check(""), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::NOT_SERVING));
}

TEST_F(AsyncHealthServiceTest, CancellingEndsABlockedRead) {
  grpc::ClientContext context;
  auto reader = Watch(context, "");
  EXPECT_EQ(Next(*reader), HealthCheckResponse::SERVING);
  // Before or while Read blocks: either way the Read ends.
  std::thread cancel([&] { context.TryCancel(); });
  HealthCheckResponse ignored;
  EXPECT_FALSE(reader->Read(&ignored));
  cancel.join();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(AsyncHealthServiceTest, ManyWatchersComeAndGo) {
  bool serving = true;
  for (int round = 0; round < 20; ++round) {
    grpc::ClientContext context;
    auto reader = Watch(context, "");
    EXPECT_EQ(Next(*reader),
              serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
    serving = !serving;
    health_.SetServingStatus(serving);
    context.TryCancel();
    HealthCheckResponse ignored;
    while (reader->Read(&ignored)) {
    }
    (void)reader->Finish();
  }
  health_.SetServingStatus(true);
  EXPECT_EQ(Check(""), std::make_pair(grpc::StatusCode::OK, HealthCheckResponse::SERVING));
}

}  // namespace
}  // namespace kv::edge
