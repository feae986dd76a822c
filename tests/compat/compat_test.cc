// The real clients against real nodes (issue 6): the `cloudflare` SDK and
// `wrangler kv` against the REST API of a central and of an edge, and
// `workerd test` with a Worker bound to an edge (a repeated read there must
// report CF-Cache-Status: HIT, so an edge that only proxies fails).
// The clients are installed by tests/compat/setup.sh (the ctest fixture
// kv_compat_setup) into $KV_NPM_DIR. Without Node or the packages the
// tests skip, unless KV_REQUIRE_CLIENTS=1 (CI), where they fail.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/harness/central_process.h"
#include "tests/harness/edge_process.h"
#include "tests/harness/raw_http_client.h"
#include "tests/harness/process.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"
#include "tests/harness/test_certificates.h"

namespace kv::testing {
namespace {

constexpr char kWriter[] = "compat-writer-token-0123456789";
constexpr char kEdgeToken[] = "compat-edge-stream-token-0123";
constexpr char kAccount[] = "0123456789abcdef0123456789abcdef";

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::string NpmDir() { return EnvOr("KV_NPM_DIR", KV_NPM_DIR_DEFAULT); }
std::string SourceDir() { return EnvOr("KV_COMPAT_SRC", KV_COMPAT_SRC_DEFAULT); }

class CompatTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("KV_CENTRAL_BIN", KV_CENTRAL_BIN_DEFAULT, /*overwrite=*/0);
    setenv("KV_EDGE_BIN", KV_EDGE_BIN_DEFAULT, /*overwrite=*/0);
    if (!std::filesystem::exists(NpmDir() + "/node_modules/wrangler/package.json") ||
        !std::filesystem::exists(NpmDir() + "/node_modules/cloudflare/package.json")) {
      missing_ = absl::StrCat("the real clients are not installed in ", NpmDir(),
                              " (run tests/compat/setup.sh ", NpmDir(), ")");
      return;
    }
    absl::StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Create("kv-compat");
    ASSERT_OK(dir);
    dir_ = dir->release();
    const std::string tokens = dir_->Path("tokens");
    ASSERT_OK(WriteStringToFile(tokens, absl::StrCat(kWriter, " ", kAccount, " write\n",
                                                     kEdgeToken, " ", kAccount, " edge\n")));
    CentralProcessOptions c;
    c.dev = false;
    c.tokens_file = tokens;
    c.http = true;
    absl::StatusOr<std::unique_ptr<CentralProcess>> central =
        CentralProcess::Start(dir_->Path("central"), c);
    ASSERT_OK(central);
    central_ = central->release();
    EdgeProcessOptions e;
    e.centrals = {central_->grpc_addr()};
    e.dev = false;
    e.tokens_file = tokens;
    e.http = true;
    e.workerd = true;
    e.extra_flags = {absl::StrCat("--upstream_token=", kEdgeToken)};
    absl::StatusOr<std::unique_ptr<EdgeProcess>> edge = EdgeProcess::Start(dir_->Path("edge"), e);
    ASSERT_OK(edge);
    edge_ = edge->release();
  }

  static void TearDownTestSuite() {
    delete edge_;
    delete central_;
    delete dir_;
  }

  void SetUp() override {
    if (!missing_.empty()) {
      if (EnvOr("KV_REQUIRE_CLIENTS", "0") == "1") FAIL() << missing_;
      GTEST_SKIP() << missing_;
    }
    ASSERT_NE(central_, nullptr);
    ASSERT_NE(edge_, nullptr);
  }

  // Runs `argv` with the client environment; returns its output and
  // expects exit 0.
  static void RunClient(const std::string& name, std::vector<std::string> argv,
                        std::vector<std::pair<std::string, std::optional<std::string>>> env) {
    const std::string log = dir_->Path(name + ".log");
    ProcessOptions p;
    p.argv = std::move(argv);
    p.env = std::move(env);
    p.env.emplace_back("KV_NPM_DIR", NpmDir());
    p.env.emplace_back("CLOUDFLARE_API_KEY", std::nullopt);
    p.env.emplace_back("CLOUDFLARE_EMAIL", std::nullopt);
    p.stdout_path = log;
    absl::StatusOr<std::unique_ptr<Process>> process = Process::Start(p);
    ASSERT_OK(process);
    absl::StatusOr<ExitStatus> status = (*process)->Wait(absl::Minutes(5));
    std::ifstream in(log);
    std::stringstream output;
    output << in.rdbuf();
    ASSERT_OK(status) << output.str();
    EXPECT_TRUE(status->Exited(0)) << name << " ended with " << status->ToString() << ":\n"
                                   << output.str();
    // The per-case lines, for the CI log.
    std::cout << output.str().substr(0, 20000) << std::flush;
  }

  // `ca`: the node serves HTTPS with a certificate this CA file signed
  // (Node trusts it through NODE_EXTRA_CA_CERTS).
  static void RunRestSuite(const std::string& script, int http_port, const std::string& name,
                           const std::string& ca = "") {
    RunClient(name, {NodeBinary(), absl::StrCat(SourceDir(), "/", script)},
              {{"KV_BASE_URL", absl::StrCat(ca.empty() ? "http" : "https", "://127.0.0.1:",
                                            http_port, "/client/v4")},
               {"KV_TOKEN", std::string(kWriter)},
               {"KV_ACCOUNT", std::string(kAccount)},
               {"NODE_EXTRA_CA_CERTS", ca.empty() ? std::nullopt : std::optional(ca)}});
  }

  static std::string NodeBinary() {
    for (const char* candidate : {"/usr/bin/node", "/usr/local/bin/node"}) {
      if (std::filesystem::exists(candidate)) return candidate;
    }
    return "node";
  }

  static TempDir* dir_;
  static CentralProcess* central_;
  static EdgeProcess* edge_;
  static std::string missing_;
};

TempDir* CompatTest::dir_ = nullptr;
CentralProcess* CompatTest::central_ = nullptr;
EdgeProcess* CompatTest::edge_ = nullptr;
std::string CompatTest::missing_;

TEST_F(CompatTest, CloudflareSdkAgainstCentral) {
  RunRestSuite("sdk_test.cjs", central_->http_port(), "sdk-central");
}

TEST_F(CompatTest, CloudflareSdkAgainstEdge) {
  RunRestSuite("sdk_test.cjs", edge_->http_port(), "sdk-edge");
}

// The SDK over HTTPS: a central with TLS (docs/operations.md, "TLS").
TEST_F(CompatTest, CloudflareSdkOverHttpsAgainstATlsCentral) {
  const std::string tls = dir_->Path("tls");
  std::filesystem::create_directories(tls);
  ASSERT_OK(MakeTestCertificates(tls));
  CentralProcessOptions c;
  c.dev = false;
  c.tokens_file = dir_->Path("tokens");
  c.http = true;
  c.tls_ca = tls + "/ca.pem";
  c.extra_flags = {absl::StrCat("--tls_cert=", tls, "/node.pem"),
                   absl::StrCat("--tls_key=", tls, "/node.key"),
                   absl::StrCat("--tls_ca=", tls, "/ca.pem")};
  absl::StatusOr<std::unique_ptr<CentralProcess>> central =
      CentralProcess::Start(dir_->Path("tls-central"), c);
  ASSERT_OK(central);
  RunRestSuite("sdk_test.cjs", (*central)->http_port(), "sdk-https", tls + "/ca.pem");
}

TEST_F(CompatTest, WranglerAgainstCentral) {
  RunRestSuite("wrangler_test.cjs", central_->http_port(), "wrangler-central");
}

TEST_F(CompatTest, WranglerAgainstEdge) {
  RunRestSuite("wrangler_test.cjs", edge_->http_port(), "wrangler-edge");
}

TEST_F(CompatTest, WorkerdTestWithAWorkerBoundToTheEdge) {
  absl::StatusOr<HttpReply> created = HttpCall(
      central_->http_port(), "POST",
      absl::StrCat("/client/v4/accounts/", kAccount, "/storage/kv/namespaces"),
      {{"Authorization", absl::StrCat("Bearer ", kWriter)}}, R"({"title":"workerd-compat"})");
  ASSERT_OK(created);
  ASSERT_EQ(created->status, 200) << created->body;
  const size_t at = created->body.find("\"id\":\"");
  ASSERT_NE(at, std::string::npos);
  const std::string ns = created->body.substr(at + 6, 32);

  const std::string work = dir_->Path("workerd");
  std::filesystem::create_directories(work);
  std::filesystem::copy_file(SourceDir() + "/kv-tests.js", work + "/kv-tests.js",
                             std::filesystem::copy_options::overwrite_existing);
  absl::StatusOr<std::string> templ = ReadFileToString(SourceDir() + "/kv.wd-test.in");
  ASSERT_OK(templ);
  ASSERT_OK(WriteStringToFile(work + "/kv.wd-test",
                              absl::StrReplaceAll(*templ, {{"@TOKEN@", kWriter},
                                                           {"@NAMESPACE@", ns}})));
  const std::string workerd =
      NpmDir() + "/node_modules/@cloudflare/workerd-linux-64/bin/workerd";
  ASSERT_TRUE(std::filesystem::exists(workerd)) << workerd;
  RunClient("workerd", {workerd, "test", work + "/kv.wd-test", "-e",
                        absl::StrCat("kv-edge=127.0.0.1:", edge_->workerd_port())},
            {});
  absl::StatusOr<std::string> log = ReadFileToString(dir_->Path("workerd.log"));
  ASSERT_OK(log);
  EXPECT_EQ(CountOf(*log, "[ PASS ]"), 7u) << *log;
  EXPECT_EQ(CountOf(*log, "[ FAIL ]"), 0u) << *log;
}

}  // namespace
}  // namespace kv::testing
