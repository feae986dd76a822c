#include "tools/bench/bare_server.h"

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "proto/kv.grpc.pb.h"

namespace kv::bench {
namespace {

// Fills `resp` for `req`: every key found with the fixed value.
class FixedAnswer {
 public:
  explicit FixedAnswer(int value_size) : value_(static_cast<size_t>(value_size), 'v') {}
  grpc::Status Answer(const kv::v1::GetRequest& req, kv::v1::GetResponse* resp) const {
    if (req.keys_size() == 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no keys");
    }
    for (const std::string& key : req.keys()) {
      kv::v1::Entry* e = resp->add_entries();
      e->set_key(key);
      e->set_found(true);
      e->set_value(value_);
      e->mutable_version()->set_physical_ms(1700000000000);
      e->mutable_version()->set_node_id(1);
    }
    resp->set_cache_status("HIT");
    return grpc::Status::OK;
  }

 private:
  std::string value_;
};

class SyncService final : public kv::v1::Kv::Service {
 public:
  explicit SyncService(const FixedAnswer* answer) : answer_(answer) {}
  grpc::Status Get(grpc::ServerContext*, const kv::v1::GetRequest* req,
                   kv::v1::GetResponse* resp) override {
    return answer_->Answer(*req, resp);
  }

 private:
  const FixedAnswer* answer_;
};

// Classic completion-queue state machine for unary Get.
class AsyncCall {
 public:
  AsyncCall(kv::v1::Kv::AsyncService* svc, grpc::ServerCompletionQueue* cq,
            const FixedAnswer* answer)
      : svc_(svc), cq_(cq), answer_(answer), responder_(&ctx_) {
    svc_->RequestGet(&ctx_, &req_, &responder_, cq_, cq_, this);
  }
  void Proceed(bool ok) {
    if (finished_ || !ok) {
      delete this;
      return;
    }
    new AsyncCall(svc_, cq_, answer_);  // accept the next call
    finished_ = true;
    grpc::Status s = answer_->Answer(req_, &resp_);
    if (s.ok()) {
      responder_.Finish(resp_, s, this);
    } else {
      responder_.FinishWithError(s, this);
    }
  }

 private:
  kv::v1::Kv::AsyncService* svc_;
  grpc::ServerCompletionQueue* cq_;
  const FixedAnswer* answer_;
  grpc::ServerContext ctx_;
  kv::v1::GetRequest req_;
  kv::v1::GetResponse resp_;
  grpc::ServerAsyncResponseWriter<kv::v1::GetResponse> responder_;
  bool finished_ = false;
};

}  // namespace

int RunBareServer(const std::string& ready_file, const std::string& api, int value_size) {
  if (api != "async" && api != "sync") {
    std::cerr << "kv-bench --serve_bare: --bare_api must be async or sync\n";
    return 2;
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  // As kv-edge and kv-central (their main.cc): no lock-order cycle checks on
  // every absl::Mutex acquisition (gRPC's own locks are absl::Mutexes), which
  // Debian's abseil does by default; otherwise the baseline pays ~2% more.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const FixedAnswer answer(value_size);
  SyncService sync_service(&answer);
  kv::v1::Kv::AsyncService async_service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(128 << 20);
  builder.SetMaxSendMessageSize(128 << 20);
  std::unique_ptr<grpc::ServerCompletionQueue> cq;
  if (api == "sync") {
    builder.RegisterService(&sync_service);
  } else {
    builder.RegisterService(&async_service);
    cq = builder.AddCompletionQueue();
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "kv-bench --serve_bare: cannot start the server\n";
    return 1;
  }
  std::thread poller;
  if (cq != nullptr) {
    constexpr int kPreposted = 64;  // as in /work/shared/baselines/grpc_server.cc
    for (int i = 0; i < kPreposted; ++i) new AsyncCall(&async_service, cq.get(), &answer);
    poller = std::thread([&cq] {
      void* tag;
      bool ok;
      while (cq->Next(&tag, &ok)) static_cast<AsyncCall*>(tag)->Proceed(ok);
    });
  }
  if (!ready_file.empty()) {
    const std::string tmp = ready_file + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << "grpc_port=" << port << "\npid=" << getpid() << "\napi=" << api << "\n";
    }
    if (std::rename(tmp.c_str(), ready_file.c_str()) != 0) {
      std::cerr << "kv-bench --serve_bare: cannot write " << ready_file << "\n";
      return 1;
    }
  }
  std::cerr << "kv-bench bare " << api << " server on 127.0.0.1:" << port << "\n";
  int sig = 0;
  sigwait(&sigs, &sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (cq != nullptr) {
    cq->Shutdown();
    poller.join();
  }
  return 0;
}

}  // namespace kv::bench
