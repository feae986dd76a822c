// Real nodes with tokens, with and without TLS (DESIGN §6): three centrals
// and an edge over mutual TLS replicate, forward namespace changes, stream
// and serve clients (kvctl included); a plain-text client, a token without
// a node certificate and a certificate from another CA are refused; the
// REST and metrics ports serve HTTPS (the container health check too);
// incomplete TLS flags stop a node at start; --help lists the TLS flags.
// Without TLS, tokens alone: anti-entropy authenticates to its peers.
// Certificates are made per test suite (MakeTestCertificates).
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "proto/invalidation.grpc.pb.h"
#include "proto/replication.grpc.pb.h"
#include "tests/harness/central_process.h"
#include "tests/harness/edge_process.h"
#include "tests/harness/eventually.h"
#include "tests/harness/metrics_scraper.h"
#include "tests/harness/process.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"
#include "tests/harness/test_certificates.h"
#include "tests/integration/cluster_fixture.h"

namespace kv::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kAccount[] = "0123456789abcdef0123456789abcdef";
constexpr char kWriter[] = "tls-writer-token-0123456789";
constexpr char kNodeToken[] = "tls-node-token-0123456789";
constexpr char kMetricsToken[] = "tls-metrics-token-0123456789";

class TlsTest : public ClusterTest {
 protected:
  static void SetUpTestSuite() {
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("tls");
    ASSERT_OK(dir);
    certs_ = dir->release();
    ASSERT_OK(MakeTestCertificates(certs_->path()));
    ASSERT_OK(WriteStringToFile(
        Path("tokens"), absl::StrCat(kWriter, " ", kAccount, " write\n", kNodeToken, " ", kAccount,
                                     " edge\n", kMetricsToken, " ", kAccount, " metrics\n")));
    ASSERT_OK(WriteStringToFile(Path("node-token"), kNodeToken));
  }
  static void TearDownTestSuite() { delete certs_; }

  // A file of the suite's certificates and tokens.
  static std::string Path(const std::string& name) { return certs_->Path(name); }
  static std::vector<std::string> TlsFlags() {
    return {absl::StrCat("--tls_cert=", Path("node.pem")),
            absl::StrCat("--tls_key=", Path("node.key")),
            absl::StrCat("--tls_ca=", Path("ca.pem"))};
  }
  // A central's options with tokens, over TLS when `tls`.
  static CentralProcessOptions Central(bool tls) {
    CentralProcessOptions options;
    options.dev = false;
    options.tokens_file = Path("tokens");
    options.metrics_token = kMetricsToken;
    options.extra_flags = {absl::StrCat("--peer_token_file=", Path("node-token"))};
    if (tls) {
      for (std::string& flag : TlsFlags()) options.extra_flags.push_back(std::move(flag));
      options.tls_ca = Path("ca.pem");
    }
    return options;
  }
  // ClusterTest's cluster with tokens (the helpers send the writer's), over
  // TLS when `tls`.
  void StartTokenCluster(bool tls, std::vector<std::string> flags = {}) {
    central_options_ = Central(tls);
    token_ = kWriter;
    StartCluster(std::move(flags));
  }

  static TempDir* certs_;
};

TempDir* TlsTest::certs_ = nullptr;

TEST_F(TlsTest, ClusterAndEdgeWorkOverMutualTls) {
  ASSERT_NO_FATAL_FAILURE(StartTokenCluster(/*tls=*/true));
  // The metrics port is HTTPS too: the cluster's readiness above was read
  // from it with the CA (CentralProcess::Metrics); plain HTTP gets nothing.
  EXPECT_FALSE(HttpGet(cluster_->central(0).metrics_port(), "/metrics", absl::Seconds(5)).ok());
  ASSERT_OK_AND_ASSIGN(MetricsSnapshot metrics, cluster_->central(0).Metrics());
  // The certificates' expiry, for the KvTlsCertificateExpiresSoon alert (the
  // suite's certificates last 2 days).
  for (const char* certificate : {"node", "ca"}) {
    ASSERT_OK_AND_ASSIGN(double expires, metrics.Value("kv_tls_certificate_expiry_timestamp_seconds",
                                                       {{"certificate", certificate}}));
    EXPECT_NEAR(expires, absl::ToUnixSeconds(absl::Now() + absl::Hours(48)), 3600) << certificate;
  }
  // With tokens, a scrape needs the metrics token (Metrics() sends it): none
  // is 401, a client's is 403.
  const int metrics_port = cluster_->central(0).metrics_port();
  absl::StatusOr<MetricsSnapshot> refused =
      ScrapeMetrics(metrics_port, absl::Seconds(10), Path("ca.pem"));
  EXPECT_THAT(refused.status().message(), HasSubstr("401"));
  refused = ScrapeMetrics(metrics_port, absl::Seconds(10), Path("ca.pem"), kWriter);
  EXPECT_THAT(refused.status().message(), HasSubstr("403"));
  // Made at central 3, forwarded to central 1 over mutual TLS.
  const std::string ns = CreateNamespace(2, "over-tls");
  ASSERT_FALSE(ns.empty());
  ASSERT_TRUE(Put(0, ns, "k", "v").ok());
  for (int i = 1; i < 3; ++i) {
    ASSERT_EVENTUALLY([&] { ASSERT_EQ(Get(i, ns, "k"), "v"); });
  }
  EdgeProcessOptions e;
  e.centrals = cluster_->grpc_addrs();
  e.dev = false;
  e.tokens_file = Path("tokens");
  e.metrics_token = kMetricsToken;
  e.tls_ca = Path("ca.pem");
  e.extra_flags = TlsFlags();
  e.extra_flags.push_back(absl::StrCat("--upstream_token=", kNodeToken));
  absl::StatusOr<std::unique_ptr<EdgeProcess>> edge =
      EdgeProcess::Start(absl::StrCat(dir_->path(), "/edge"), e);
  ASSERT_OK(edge);
  auto via_edge = (*edge)->NewStub();
  // A read through the edge (fetched from a central over mutual TLS), then
  // a write at a central that reaches the edge by its invalidation stream.
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(GetVia(*via_edge, ns, "k"), "v"); });
  ASSERT_TRUE(Put(1, ns, "k", "v2").ok());
  ASSERT_EVENTUALLY([&] { ASSERT_EQ(GetVia(*via_edge, ns, "k"), "v2"); });

  // kvctl: with --tls_ca it reads; without, the plain-text dial fails.
  const char* kvctl = getenv("KVCTL_BIN");
  ASSERT_NE(kvctl, nullptr) << "KVCTL_BIN is not set (ctest sets it)";
  const std::vector<std::pair<std::string, std::optional<std::string>>> env = {
      {"KV_GRPC_ADDR", cluster_->central(2).grpc_addr()}, {"KV_TOKEN", kWriter},
      {"KV_ACCOUNT", std::nullopt}, {"KV_TLS_CA", std::nullopt},
      {"KVCTL_CONFIG", std::nullopt}, {"XDG_CONFIG_HOME", dir_->path()}};
  absl::StatusOr<CommandResult> got = RunCommand(
      {kvctl, "key", "get", "k", "--namespace_id", ns, "--tls_ca", Path("ca.pem")},
      dir_->path(), env);
  ASSERT_OK(got);
  EXPECT_TRUE(got->status.Exited(0)) << got->stderr_data;
  EXPECT_EQ(got->stdout_data, "v2");
  got = RunCommand({kvctl, "key", "get", "k", "--namespace_id", ns, "--timeout", "5s"},
                   dir_->path(), env);
  ASSERT_OK(got);
  EXPECT_FALSE(got->status.Exited(0));
  EXPECT_THAT(got->stderr_data, HasSubstr("unavailable"));

  // kvctl health (the containers' probe) speaks TLS too.
  got = RunCommand({kvctl, "health", "--tls_ca", Path("ca.pem")}, dir_->path(), env);
  ASSERT_OK(got);
  EXPECT_TRUE(got->status.Exited(0)) << got->stderr_data;
  EXPECT_EQ(got->stdout_data, "SERVING\n");
  got = RunCommand({kvctl, "health", "--timeout", "5s"}, dir_->path(), env);
  ASSERT_OK(got);
  EXPECT_TRUE(got->status.Exited(5)) << got->status.ToString();
  EXPECT_THAT(got->stderr_data, HasSubstr("health check failed"));
}

TEST_F(TlsTest, ClientsWithoutTlsOrNodeCertificatesAreRefused) {
  ASSERT_NO_FATAL_FAILURE(StartTokenCluster(/*tls=*/true));
  const std::string addr = cluster_->central(0).grpc_addr();
  // Plain text to a TLS port: no connection.
  auto plain = kv::v1::Kv::NewStub(NewKvChannel(addr));
  EXPECT_THAT(GetVia(*plain, "0123456789abcdef0123456789abcdef", "k"), HasSubstr("<error"));

  // TLS without a client certificate: a client. The node token is not
  // enough for the methods only nodes call.
  auto client_channel = NewKvChannel(addr, Path("ca.pem"));
  auto replication = kv::replication::v1::Replication::NewStub(client_channel);
  kv::replication::v1::DigestRequest digests;
  digests.set_buckets(256);
  kv::replication::v1::DigestResponse digested;
  grpc::Status s = replication->Digests(NewClientContext(kNodeToken).get(), digests, &digested);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("mutual TLS"));
  auto invalidation = kv::v1::Invalidation::NewStub(client_channel);
  kv::v1::RevalidateRequest revalidate;
  kv::v1::RevalidateResponse revalidated;
  s = invalidation->Revalidate(NewClientContext(kNodeToken).get(), revalidate, &revalidated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("mutual TLS"));

  // A node certificate from another CA: the handshake fails. The real
  // node certificate with the node token: served.
  auto with_certificate = [&](const std::string& who) {
    absl::StatusOr<std::string> cert = ReadFileToString(Path(who + ".pem"));
    absl::StatusOr<std::string> key = ReadFileToString(Path(who + ".key"));
    absl::StatusOr<std::string> ca = ReadFileToString(Path("ca.pem"));
    EXPECT_OK(cert);
    EXPECT_OK(key);
    EXPECT_OK(ca);
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ca.value_or("");
    options.pem_cert_chain = cert.value_or("");
    options.pem_private_key = key.value_or("");
    return kv::replication::v1::Replication::NewStub(
        grpc::CreateChannel(addr, grpc::SslCredentials(options)));
  };
  s = with_certificate("rogue")->Digests(NewClientContext(kNodeToken, absl::Seconds(5)).get(),
                                         digests, &digested);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  s = with_certificate("node")->Digests(NewClientContext(kNodeToken).get(), digests, &digested);
  EXPECT_TRUE(s.ok()) << s.error_message();
}

// The container health check (deploy/docker/healthcheck.sh) reads a TLS
// node's /metrics over HTTPS and asks its gRPC health over TLS (kvctl
// health) when given the CA, and reports it unhealthy without, or when the
// gRPC port does not answer the health service.
TEST_F(TlsTest, ContainerHealthCheckSpeaksTls) {
  ASSERT_NO_FATAL_FAILURE(StartTokenCluster(/*tls=*/true));
  const char* kvctl = getenv("KVCTL_BIN");
  ASSERT_NE(kvctl, nullptr) << "KVCTL_BIN is not set (ctest sets it)";
  CentralProcess& central = cluster_->central(0);
  const std::string script = absl::StrCat(KV_SOURCE_DIR, "/deploy/docker/healthcheck.sh");
  using Env = std::vector<std::pair<std::string, std::optional<std::string>>>;
  const Env plain = {{"KV_HEALTH_GRPC_PORT", absl::StrCat(central.grpc_port())},
                     {"KV_HEALTH_METRICS_PORT", absl::StrCat(central.metrics_port())},
                     {"KV_HEALTH_TIMEOUT", "10"},
                     {"KV_HEALTH_KVCTL", kvctl}};
  Env with_ca = plain;
  with_ca.emplace_back("KV_HEALTH_TLS_CA", Path("ca.pem"));
  Env no_health = with_ca;  // the gRPC port is the metrics port: HTTPS, no gRPC
  no_health.emplace_back("KV_HEALTH_GRPC_PORT", absl::StrCat(central.metrics_port()));
  auto check = [&](const Env& env) {
    absl::StatusOr<CommandResult> result = RunCommand({"/bin/bash", script}, dir_->path(), env);
    EXPECT_OK(result);
    return result.ok() ? *result : CommandResult{};
  };
  const CommandResult healthy = check(with_ca);
  EXPECT_TRUE(healthy.status.Exited(0)) << healthy.stderr_data;
  const CommandResult without_ca = check(plain);
  EXPECT_TRUE(without_ca.status.Exited(1)) << without_ca.stderr_data;
  EXPECT_THAT(without_ca.stderr_data, HasSubstr("/metrics"));
  const CommandResult not_grpc = check(no_health);
  EXPECT_TRUE(not_grpc.status.Exited(1)) << not_grpc.stderr_data;
  EXPECT_THAT(not_grpc.stderr_data, HasSubstr("gRPC health"));
}

// kv-bench benchmarks a node that serves TLS (--tls_ca with --addr), and
// refuses --tls_ca for the plain-text nodes it would start itself.
TEST_F(TlsTest, KvBenchDialsATlsCentral) {
  const char* bench = getenv("KV_BENCH_BIN");
  ASSERT_NE(bench, nullptr);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CentralProcess> central,
                       CentralProcess::Start(dir_->Path("central"), Central(/*tls=*/true)));
  const std::vector<std::string> put = {bench, "--workload=put", "--json", "--concurrency=2",
                                        "--duration=1s", "--warmup=200ms",
                                        absl::StrCat("--addr=", central->grpc_addr()),
                                        absl::StrCat("--token=", kWriter)};
  std::vector<std::string> with_ca = put;
  with_ca.push_back(absl::StrCat("--tls_ca=", Path("ca.pem")));
  ASSERT_OK_AND_ASSIGN(CommandResult ran, RunCommand(with_ca, dir_->path()));
  ASSERT_TRUE(ran.status.Exited(0)) << ran.stderr_data;
  const nlohmann::json report =
      nlohmann::json::parse(ran.stdout_data.substr(0, ran.stdout_data.find('\n')));
  EXPECT_GT(report["ops"].get<double>(), 0) << ran.stdout_data;
  EXPECT_EQ(report["errors"].get<double>(), 0) << ran.stdout_data;
  // Without the CA it dials plain text, which the TLS port does not answer.
  ASSERT_OK_AND_ASSIGN(CommandResult plain, RunCommand(put, dir_->path()));
  EXPECT_TRUE(plain.status.Exited(1)) << plain.status.ToString();
  EXPECT_THAT(plain.stderr_data, HasSubstr("cannot create a namespace"));
  ASSERT_OK_AND_ASSIGN(CommandResult own,
                       RunCommand({bench, "--workload=put", "--central_bin=x",
                                   absl::StrCat("--tls_ca=", Path("ca.pem"))},
                                  dir_->path()));
  EXPECT_TRUE(own.status.Exited(2)) << own.status.ToString();
  EXPECT_THAT(own.stderr_data, HasSubstr("--tls_ca needs --addr"));
}

// The REST port serves HTTPS with the node's certificate: curl verifies it
// against the CA and writes and reads; plain HTTP to it gets no answer.
TEST_F(TlsTest, RestPortServesHttps) {
  CentralProcessOptions options = Central(/*tls=*/true);
  options.http = true;
  absl::StatusOr<std::unique_ptr<CentralProcess>> central =
      CentralProcess::Start(dir_->Path("central"), options);
  ASSERT_OK(central);
  const std::string base = absl::StrCat("https://127.0.0.1:", (*central)->http_port(),
                                        "/client/v4/accounts/", kAccount, "/storage/kv/namespaces");
  auto curl = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "20", "-H",
                                     absl::StrCat("Authorization: Bearer ", kWriter)};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> result = RunCommand(argv, dir_->path());
    EXPECT_OK(result);
    return result.ok() ? *result : CommandResult{};
  };
  CommandResult created =
      curl({"--cacert", Path("ca.pem"), "-X", "POST", "-d", R"({"title":"https"})", base});
  ASSERT_TRUE(created.status.Exited(0)) << created.stderr_data;
  ASSERT_THAT(created.stdout_data, HasSubstr("\"success\":true"));
  const size_t at = created.stdout_data.find("\"id\":\"");
  ASSERT_NE(at, std::string::npos) << created.stdout_data;
  const std::string value_url =
      absl::StrCat(base, "/", created.stdout_data.substr(at + 6, 32), "/values/greeting");
  CommandResult put = curl({"--cacert", Path("ca.pem"), "-X", "PUT", "--data-binary", "hello",
                            value_url});
  ASSERT_TRUE(put.status.Exited(0)) << put.stderr_data;
  CommandResult got = curl({"--cacert", Path("ca.pem"), value_url});
  ASSERT_TRUE(got.status.Exited(0)) << got.stderr_data;
  EXPECT_EQ(got.stdout_data, "hello");
  // Not trusted without the CA; no answer in plain HTTP.
  EXPECT_FALSE(curl({value_url}).status.Exited(0));
  std::string plain = value_url;
  plain.replace(0, 5, "http");
  EXPECT_FALSE(curl({plain}).status.Exited(0));
}

TEST_F(TlsTest, IncompleteTlsFlagsStopANodeAtStart) {
  CentralProcessOptions options = Central(/*tls=*/false);
  options.extra_flags.push_back(absl::StrCat("--tls_cert=", Path("node.pem")));
  EXPECT_THAT(CentralProcess::Start(dir_->Path("central"), options),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("--tls_key --tls_ca")));
  options = Central(/*tls=*/false);
  options.extra_flags.push_back(absl::StrCat("--tls_cert=", Path("node.ext")));
  options.extra_flags.push_back(absl::StrCat("--tls_key=", Path("node.key")));
  options.extra_flags.push_back(absl::StrCat("--tls_ca=", Path("ca.pem")));
  EXPECT_THAT(CentralProcess::Start(dir_->Path("central-2"), options),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("is not a PEM file")));
}

// --help lists each node's own flags, the shared TLS flags among them
// (abseil alone would list none: no flag lives in a file named like the
// binary).
TEST_F(TlsTest, HelpListsTheNodeFlags) {
  for (const auto& [env, own] : {std::pair<const char*, const char*>{"KV_CENTRAL_BIN", "--data_dir"},
                                 {"KV_EDGE_BIN", "--centrals"}}) {
    const char* bin = getenv(env);
    ASSERT_NE(bin, nullptr) << env << " is not set (ctest sets it)";
    absl::StatusOr<CommandResult> help = RunCommand({bin, "--help"}, dir_->path());
    ASSERT_OK(help);
    const std::string text = help->stdout_data + help->stderr_data;
    EXPECT_THAT(text, HasSubstr(own)) << bin;
    EXPECT_THAT(text, HasSubstr("--tls_cert")) << bin;
    EXPECT_THAT(text, HasSubstr("--tls_ca")) << bin;
  }
}

// With tokens (not dev mode), anti-entropy must authenticate to its peers
// like the streams do: a central whose data dir is wiped, with no log left
// to resume from, is rebuilt by anti-entropy alone.
TEST_F(TlsTest, AntiEntropyAuthenticatesWithTheNodeToken) {
  ASSERT_NO_FATAL_FAILURE(
      StartTokenCluster(/*tls=*/false, {"--log_retention=0s", "--trim_interval=100ms"}));
  const std::string ns = CreateNamespace(0, "rebuilt");
  ASSERT_FALSE(ns.empty());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Put(i % 2, ns, absl::StrCat("key-", i), absl::StrCat("value-", i)).ok());
  }
  ASSERT_OK(cluster_->central(2).Kill());
  ASSERT_OK(cluster_->central(2).WipeDataDir());
  ASSERT_OK(cluster_->central(2).StartAgain());
  ASSERT_EVENTUALLY([&] {
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(Get(2, ns, absl::StrCat("key-", i)), absl::StrCat("value-", i));
    }
  });
}

}  // namespace
}  // namespace kv::testing
