// Bearer-token authentication and authorization (--tokens_file): every
// refused request leaves the data unchanged.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/loopback_http.h"
#include "tests/harness/metrics_scraper.h"
#include "tests/harness/process.h"
#include "tests/integration/itest_util.h"

namespace kv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kWriterA[] = "token-a-write-0123456789";
constexpr char kReaderA[] = "token-a-read-0123456789";
constexpr char kWriterB[] = "token-b-write-0123456789";
constexpr char kScraper[] = "token-metrics-0123456789";

class AuthTest : public CentralFixture {
 protected:
  void SetUp() override {
    CentralFixture::SetUp();
    const std::string tokens_path = dir_->Path("tokens");
    ASSERT_OK(WriteStringToFile(tokens_path, absl::StrCat("# test tokens\n", kWriterA,
                                                          " accounta write\n\n", kReaderA,
                                                          " accounta read\n", kWriterB,
                                                          " accountb write\n", kScraper,
                                                          " scrapers metrics\n")));
    CentralProcessOptions options;
    options.dev = false;
    options.tokens_file = tokens_path;
    options.metrics_token = kScraper;
    options.extra_flags = {"--metrics_addr=127.0.0.1:0"};
    ASSERT_NO_FATAL_FAILURE(StartCentral(options));
    token_ = kWriterA;
    ns_ = MustCreateNamespace("a-namespace");
    ASSERT_FALSE(ns_.empty());
    ASSERT_OK(Put(ns_, "canary", "canary-value"));
  }

  // As the writer of account A: the namespace and its one key are as set up.
  void ExpectUnchanged() {
    const std::string saved_token = token_;
    const std::string saved_account = account_;
    token_ = kWriterA;
    account_ = "";
    EXPECT_EQ(Get(ns_, "canary"), "canary-value");
    absl::StatusOr<std::vector<std::string>> names = ListNames(ns_);
    EXPECT_OK(names);
    if (names.ok()) {
      EXPECT_EQ(*names, (std::vector<std::string>{"canary"}));
    }
    absl::StatusOr<kv::v1::ListNamespacesResponse> spaces = ListNamespaces(1, 100);
    EXPECT_OK(spaces);
    if (spaces.ok()) {
      EXPECT_EQ(spaces->total_count(), 1u);
      EXPECT_EQ(spaces->namespaces(0).title(), "a-namespace");
    }
    token_ = kWriterB;
    spaces = ListNamespaces(1, 100);
    EXPECT_OK(spaces);
    if (spaces.ok()) {
      EXPECT_EQ(spaces->total_count(), 0u);
    }
    token_ = saved_token;
    account_ = saved_account;
  }

  // Every RPC as the current token/account, each expected to fail with `code`.
  void ExpectEveryRpcFails(absl::StatusCode code, bool include_reads) {
    if (include_reads) {
      EXPECT_THAT(GetEntry(ns_, "canary"), StatusIs(code));
      EXPECT_THAT(ListPage(ns_, "", 0, ""), StatusIs(code));
      EXPECT_THAT(ListNamespaces(1, 10), StatusIs(code));
      EXPECT_THAT(GetNamespace(ns_), StatusIs(code));
    }
    EXPECT_THAT(Put(ns_, "canary", "changed"), StatusIs(code));
    EXPECT_THAT(Put(ns_, "new-key", "v"), StatusIs(code));
    EXPECT_THAT(Delete(ns_, "canary"), StatusIs(code));
    EXPECT_THAT(BulkPut(ns_, {{"canary", "changed"}, {"bulk", "v"}}), StatusIs(code));
    EXPECT_THAT(BulkDelete(ns_, {"canary"}), StatusIs(code));
    EXPECT_THAT(CreateNamespace("intruder"), StatusIs(code));
    EXPECT_THAT(RenameNamespace(ns_, "renamed"), StatusIs(code));
    EXPECT_THAT(DeleteNamespace(ns_), StatusIs(code));
  }

  std::string ns_;
};

TEST_F(AuthTest, OwnTokenWorks) {
  EXPECT_EQ(Get(ns_, "canary"), "canary-value");
  // Naming the token's own account explicitly is the same.
  account_ = "accounta";
  EXPECT_EQ(Get(ns_, "canary"), "canary-value");
  ExpectUnchanged();
}

TEST_F(AuthTest, NoTokenIsUnauthenticated) {
  token_ = "";
  ExpectEveryRpcFails(absl::StatusCode::kUnauthenticated, /*include_reads=*/true);
  account_ = "accounta";
  ExpectEveryRpcFails(absl::StatusCode::kUnauthenticated, /*include_reads=*/true);
  ExpectUnchanged();
}

TEST_F(AuthTest, UnknownOrMalformedTokenIsUnauthenticated) {
  token_ = "no-such-token";
  ExpectEveryRpcFails(absl::StatusCode::kUnauthenticated, /*include_reads=*/true);
  // A known token in a malformed header.
  kv::v1::GetRequest request;
  request.set_namespace_id(ns_);
  request.add_keys("canary");
  for (const std::string& header :
       {std::string(kWriterA), absl::StrCat("Basic ", kWriterA), std::string("Bearer "),
        absl::StrCat("Bearer ", kWriterA, "x")}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", header);
    kv::v1::GetResponse response;
    EXPECT_THAT(stub_->Get(&context, request, &response),
                StatusIs(grpc::StatusCode::UNAUTHENTICATED))
        << "authorization: " << header;
  }
  ExpectUnchanged();
}

TEST_F(AuthTest, OtherAccountsTokenIsPermissionDenied) {
  token_ = kWriterB;
  account_ = "accounta";
  ExpectEveryRpcFails(absl::StatusCode::kPermissionDenied, /*include_reads=*/true);
  ExpectUnchanged();
}

TEST_F(AuthTest, NamespaceOfAnotherAccountIsNotFoundForItsOwnAccount) {
  // Token B acting on its own account cannot see A's namespace by id.
  token_ = kWriterB;
  account_ = "";
  EXPECT_THAT(GetEntry(ns_, "canary"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Put(ns_, "canary", "changed"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Delete(ns_, "canary"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(DeleteNamespace(ns_), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(GetNamespace(ns_), StatusIs(absl::StatusCode::kNotFound));
  ExpectUnchanged();
}

TEST_F(AuthTest, ReadOnlyTokenCannotWrite) {
  token_ = kReaderA;
  EXPECT_EQ(Get(ns_, "canary"), "canary-value");
  EXPECT_OK(ListPage(ns_, "", 0, ""));
  EXPECT_OK(ListNamespaces(1, 10));
  EXPECT_OK(GetNamespace(ns_));
  ExpectEveryRpcFails(absl::StatusCode::kPermissionDenied, /*include_reads=*/false);
  ExpectUnchanged();
}

// A metrics token scrapes /metrics and nothing else; the metrics port
// wants one (401 without a token, 403 for a client's).
TEST_F(AuthTest, MetricsTokenScrapesAndNothingElse) {
  ASSERT_OK(central_->Metrics());  // sends kScraper
  const int port = central_->metrics_port();
  absl::StatusOr<HttpResult> anonymous =
      HttpRequest(port, "GET", "/metrics", "", absl::Seconds(10));
  ASSERT_OK(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_THAT(anonymous->body, HasSubstr("no API token"));
  EXPECT_THAT(ScrapeMetrics(port, absl::Seconds(10), "", kWriterA).status().message(),
              HasSubstr("403"));
  token_ = kScraper;
  ExpectEveryRpcFails(absl::StatusCode::kPermissionDenied, /*include_reads=*/true);
  ExpectUnchanged();
}

TEST_F(AuthTest, DevModeRefusesNonLoopbackAddress) {
  // Not through CentralProcess: this node must refuse to start.
  const char* bin = getenv("KV_CENTRAL_BIN");
  ASSERT_NE(bin, nullptr);
  ASSERT_OK_AND_ASSIGN(
      CommandResult result,
      RunCommand({bin, absl::StrCat("--data_dir=", dir_->Path("devdata")), "--dev",
                  "--grpc_addr=0.0.0.0:0", absl::StrCat("--ready_file=", dir_->Path("devready"))},
                 dir_->path(), {}, "", absl::Seconds(30)));
  EXPECT_FALSE(result.status.Exited(0)) << result.status.ToString();
  EXPECT_FALSE(std::filesystem::exists(dir_->Path("devready")));
}

}  // namespace
}  // namespace kv::testing
