// An edge and a central in one process (real gRPC over loopback, real
// RocksDB): 8 client threads get/put/delete through the edge while a writer
// changes the same keys at the central, so fetches, invalidations and the
// edge's own writes race on the same entries. Run under ASan/UBSan in CI.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "central/central_node.h"
#include "edge/central_pool.h"
#include "edge/edge_node.h"
#include "tests/harness/eventually.h"

namespace kv::edge {
namespace {

class EdgeConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("kv-edge-concurrency-", getpid(), "-", absl::ToUnixNanos(absl::Now()));
    central::CentralOptions c;
    c.storage.data_dir = (dir_ / "central").string();
    c.grpc_addr = "127.0.0.1:0";
    c.dev = true;
    c.streams.heartbeat_interval = absl::Milliseconds(50);
    auto central = central::CentralNode::Start(c);
    ASSERT_TRUE(central.ok()) << central.status();
    central_ = std::move(*central);

    EdgeOptions e;
    e.central_addrs = {absl::StrCat("127.0.0.1:", central_->grpc_port())};
    e.grpc_addr = "127.0.0.1:0";
    e.metrics_addr = "127.0.0.1:0";
    e.dev = true;
    e.window = absl::Seconds(5);
    e.cache.capacity_bytes = 64 << 10;  // small: evictions race too
    e.cache.num_shards = 4;
    auto edge = EdgeNode::Start(e);
    ASSERT_TRUE(edge.ok()) << edge.status();
    edge_ = std::move(*edge);

    central_stub_ = Stub(central_->grpc_port());
    edge_stub_ = Stub(edge_->grpc_port());
    grpc::ClientContext ctx;
    kv::v1::CreateNamespaceRequest create;
    create.set_title("concurrency");
    kv::v1::Namespace ns;
    ASSERT_TRUE(central_stub_->CreateNamespace(&ctx, create, &ns).ok());
    ns_ = ns.id();
  }

  void TearDown() override {
    edge_.reset();
    central_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  static std::unique_ptr<kv::v1::Kv::Stub> Stub(int port) {
    return kv::v1::Kv::NewStub(grpc::CreateCustomChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials(),
        NodeChannelArguments()));
  }

  grpc::Status Put(kv::v1::Kv::Stub& stub, const std::string& key, const std::string& value) {
    grpc::ClientContext ctx;
    kv::v1::PutRequest req;
    req.set_namespace_id(ns_);
    req.set_key(key);
    req.set_value(value);
    kv::v1::PutResponse resp;
    return stub.Put(&ctx, req, &resp);
  }

  // The value, "<none>" when missing, or "<error: ...>".
  std::string Get(kv::v1::Kv::Stub& stub, const std::string& key) {
    grpc::ClientContext ctx;
    kv::v1::GetRequest req;
    req.set_namespace_id(ns_);
    req.add_keys(key);
    kv::v1::GetResponse resp;
    grpc::Status s = stub.Get(&ctx, req, &resp);
    if (!s.ok()) return "<error: " + s.error_message() + ">";
    return resp.entries(0).found() ? resp.entries(0).value() : "<none>";
  }

  std::filesystem::path dir_;
  std::unique_ptr<central::CentralNode> central_;
  std::unique_ptr<EdgeNode> edge_;
  std::unique_ptr<kv::v1::Kv::Stub> central_stub_;
  std::unique_ptr<kv::v1::Kv::Stub> edge_stub_;
  std::string ns_;
};

TEST_F(EdgeConcurrencyTest, GetPutInvalidateFromEightThreadsConverges) {
  constexpr int kKeys = 40;
  std::atomic<int> errors{0};
  std::atomic<bool> stop{false};
  std::thread central_writer([&] {
    absl::BitGen gen;
    for (int i = 0; !stop.load(); ++i) {
      const std::string key = absl::StrCat("k", absl::Uniform(gen, 0, kKeys));
      if (!Put(*central_stub_, key, absl::StrCat("central-", i, std::string(300, 'c'))).ok()) {
        errors.fetch_add(1);
      }
    }
  });
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      absl::BitGen gen;
      for (int i = 0; i < 250; ++i) {
        const std::string key = absl::StrCat("k", absl::Uniform(gen, 0, kKeys));
        const int op = absl::Uniform(gen, 0, 10);
        if (op < 6) {
          if (absl::StartsWith(Get(*edge_stub_, key), "<error")) errors.fetch_add(1);
        } else if (op < 9) {
          if (!Put(*edge_stub_, key, absl::StrCat("edge-", t, "-", i, std::string(200, 'e'))).ok()) {
            errors.fetch_add(1);
          }
        } else {
          grpc::ClientContext ctx;
          kv::v1::DeleteRequest req;
          req.set_namespace_id(ns_);
          req.set_key(key);
          kv::v1::DeleteResponse resp;
          if (!edge_stub_->Delete(&ctx, req, &resp).ok()) errors.fetch_add(1);
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  stop = true;
  central_writer.join();
  EXPECT_EQ(errors.load(), 0);

  // Quiescent: every key at the edge converges to the central's value.
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = absl::StrCat("k", k);
    const std::string want = Get(*central_stub_, key);
    ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(*edge_stub_, key), want) << key; },
                      absl::Seconds(10));
  }
}

}  // namespace
}  // namespace kv::edge
