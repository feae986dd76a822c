#include "tests/integration/cluster_fixture.h"

#include "absl/strings/str_cat.h"
#include "tests/harness/eventually.h"
#include "tests/harness/status_matchers.h"

namespace kv::testing {

void ClusterTest::SetUp() {
  ASSERT_OK_AND_ASSIGN(dir_, TempDir::Create("cluster"));
}

void ClusterTest::UseProxy() {
  ASSERT_OK_AND_ASSIGN(proxy_, FaultProxy::Start(absl::StrCat(dir_->path(), "/proxy")));
}

void ClusterTest::StartCluster(std::vector<std::string> flags,
                               std::vector<std::vector<std::string>> node_flags) {
  CentralClusterOptions options;
  options.node = central_options_;
  options.proxy = proxy_.get();
  options.extra_flags = {"--anti_entropy_interval=1s", "--heartbeat_interval=200ms",
                         "--replication_silence_timeout=1s"};
  // Without a proxy the tests kill nodes: a longer quorum deadline.
  options.extra_flags.push_back(proxy_ != nullptr ? "--write_deadline=1s" : "--write_deadline=2s");
  for (std::string& flag : flags) options.extra_flags.push_back(std::move(flag));
  options.node_flags = std::move(node_flags);
  ASSERT_OK_AND_ASSIGN(cluster_, CentralCluster::Start(dir_->path(), options));
  ASSERT_OK(cluster_->WaitConnected());
}

AckedWriter::AckedWriter(std::unique_ptr<kv::v1::Kv::Stub> stub, std::string ns,
                         std::string prefix, int keys)
    : thread_([this, stub = std::move(stub), ns = std::move(ns), prefix = std::move(prefix),
               keys] {
        for (int n = 1; !stop_.HasBeenNotified(); ++n) {
          const int k = n % keys;
          kv::v1::PutRequest request;
          request.set_namespace_id(ns);
          request.set_key(absl::StrCat(prefix, k));
          request.set_value(absl::StrCat(n));
          kv::v1::PutResponse response;
          if (!stub->Put(NewClientContext("", absl::Seconds(5)).get(), request, &response).ok()) {
            continue;
          }
          absl::MutexLock lock(&mu_);
          last_acked_[k] = absl::StrCat(n);
          ++writes_;
        }
      }) {}

std::map<int, std::string> AckedWriter::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  absl::MutexLock lock(&mu_);
  return last_acked_;
}

absl::StatusOr<std::unique_ptr<EdgeProcess>> ClusterTest::StartEdge(
    std::vector<std::string> flags, std::vector<std::string> centrals) {
  EdgeProcessOptions options;
  options.centrals = centrals.empty() ? cluster_->grpc_addrs() : std::move(centrals);
  options.extra_flags = std::move(flags);
  return EdgeProcess::Start(absl::StrCat(dir_->path(), "/edge"), options);
}

std::unique_ptr<kv::v1::Kv::Stub> ClusterTest::Stub(int index) {
  return kv::v1::Kv::NewStub(
      NewKvChannel(cluster_->central(index).grpc_addr(), central_options_.tls_ca));
}

std::string ClusterTest::CreateNamespace(int index, const std::string& title) {
  kv::v1::CreateNamespaceRequest request;
  request.set_title(title);
  kv::v1::Namespace ns;
  grpc::Status status = Stub(index)->CreateNamespace(NewClientContext(token_).get(), request, &ns);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (!status.ok()) return ns.id();
  // Replicated like a write: wait until every running central knows it, so
  // a test can write to any of them next.
  for (int i = 0; i < cluster_->size(); ++i) {
    if (!cluster_->central(i).IsRunning()) continue;
    EXPECT_EVENTUALLY([&] {
      kv::v1::GetNamespaceRequest get;
      get.set_namespace_id(ns.id());
      kv::v1::Namespace got;
      grpc::Status s = Stub(i)->GetNamespace(NewClientContext(token_).get(), get, &got);
      ASSERT_TRUE(s.ok()) << "central " << i << ": " << s.error_message();
    });
  }
  return ns.id();
}

grpc::Status ClusterTest::Put(int index, const std::string& ns, const std::string& key,
                              const std::string& value, kv::v1::PutResponse* response) {
  kv::v1::PutRequest request;
  request.set_namespace_id(ns);
  request.set_key(key);
  request.set_value(value);
  kv::v1::PutResponse ignored;
  return Stub(index)->Put(NewClientContext(token_).get(), request,
                          response != nullptr ? response : &ignored);
}

grpc::Status ClusterTest::Delete(int index, const std::string& ns, const std::string& key) {
  kv::v1::DeleteRequest request;
  request.set_namespace_id(ns);
  request.set_key(key);
  kv::v1::DeleteResponse response;
  return Stub(index)->Delete(NewClientContext(token_).get(), request, &response);
}

void ClusterTest::AwaitLogsTrimmed(const std::vector<int>& centrals) {
  for (int i : centrals) {
    ASSERT_OK_AND_ASSIGN(double last, cluster_->central(i).Metric("kv_change_log_last_sequence"));
    ASSERT_EVENTUALLY(
        [&] {
          ASSERT_OK_AND_ASSIGN(double first,
                               cluster_->central(i).Metric("kv_change_log_first_sequence"));
          ASSERT_GE(first, last) << "central " << i << " has not trimmed its log";
        },
        absl::Seconds(15));
  }
}

grpc::Status ClusterTest::BulkPut(int index, const std::string& ns,
                                  const std::vector<std::pair<std::string, std::string>>& entries) {
  kv::v1::BulkPutRequest request;
  request.set_namespace_id(ns);
  for (const auto& [key, value] : entries) {
    auto* entry = request.add_entries();
    entry->set_key(key);
    entry->set_value(value);
  }
  kv::v1::BulkPutResponse response;
  return Stub(index)->BulkPut(NewClientContext(token_).get(), request, &response);
}

std::string ClusterTest::Get(int index, const std::string& ns, const std::string& key) {
  return GetVia(*Stub(index), ns, key);
}

std::string ClusterTest::GetVia(kv::v1::Kv::Stub& stub, const std::string& ns,
                                const std::string& key) {
  kv::v1::GetRequest request;
  request.set_namespace_id(ns);
  request.add_keys(key);
  kv::v1::GetResponse response;
  grpc::Status status = stub.Get(NewClientContext(token_).get(), request, &response);
  if (!status.ok()) return absl::StrCat("<error: ", status.error_message(), ">");
  if (response.entries_size() != 1 || !response.entries(0).found()) return "<not found>";
  return response.entries(0).value();
}

}  // namespace kv::testing
