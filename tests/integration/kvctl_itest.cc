// kvctl end to end: the real binary against a real kv-central, with stdout,
// stderr and the exit code captured.
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tests/harness/process.h"
#include "tests/integration/itest_util.h"

namespace kv::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::SizeIs;
using ::testing::StartsWith;

using Env = std::vector<std::pair<std::string, std::optional<std::string>>>;

// A key with unicode, slashes and spaces.
const char kOddKey[] = "dir/sub dir/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87 \xf0\x9f\x94\x91 & ?x=1%20";

class KvctlTest : public CentralFixture {
 protected:
  void SetUp() override {
    CentralFixture::SetUp();
    const char* bin = getenv("KVCTL_BIN");
    ASSERT_NE(bin, nullptr) << "KVCTL_BIN is not set (ctest sets it)";
    kvctl_ = bin;
    ASSERT_NO_FATAL_FAILURE(StartCentral());
  }

  // Runs kvctl with KV_GRPC_ADDR pointing at the node and no KV_TOKEN or
  // KV_ACCOUNT from the outside, plus `env`.
  CommandResult Kvctl(const std::vector<std::string>& args, Env env = {}) {
    std::vector<std::string> argv = {kvctl_};
    argv.insert(argv.end(), args.begin(), args.end());
    Env full = {{"KV_GRPC_ADDR", central_->grpc_addr()},
                {"KV_TOKEN", std::nullopt},
                {"KV_ACCOUNT", std::nullopt}};
    for (auto& e : env) full.push_back(std::move(e));
    absl::StatusOr<CommandResult> result = RunCommand(argv, dir_->path(), full);
    EXPECT_OK(result);
    if (!result.ok()) return CommandResult{};
    return *result;
  }

  // Runs kvctl and expects exit 0 and nothing on stderr; returns stdout.
  std::string KvctlOk(const std::vector<std::string>& args, Env env = {}) {
    CommandResult result = Kvctl(args, std::move(env));
    EXPECT_TRUE(result.status.Exited(0))
        << "kvctl " << absl::StrJoin(args, " ") << ": " << result.status.ToString()
        << "\nstderr: " << result.stderr_data;
    EXPECT_EQ(result.stderr_data, "");
    return result.stdout_data;
  }

  std::string CreateNamespaceWithKvctl(const std::string& title) {
    std::string out = KvctlOk({"namespace", "create", title});
    EXPECT_THAT(out, MatchesRegex("id=[0-9a-f]{32}\n"));
    if (!absl::StartsWith(out, "id=") || out.size() < 36) return "";
    return out.substr(3, 32);
  }

  // Expects failure with exit code `code` and exactly one line on stderr
  // starting with "kvctl: ".
  void ExpectOneLineError(const CommandResult& result, int code, absl::string_view needle) {
    EXPECT_TRUE(result.status.Exited(code)) << result.status.ToString();
    EXPECT_THAT(result.stderr_data, StartsWith("kvctl: "));
    if (code != 2) {
      EXPECT_EQ(std::count(result.stderr_data.begin(), result.stderr_data.end(), '\n'), 1)
          << result.stderr_data;
    }
    EXPECT_THAT(result.stderr_data, HasSubstr(std::string(needle)));
    EXPECT_EQ(result.stdout_data, "");
  }

  std::string kvctl_;
};

TEST_F(KvctlTest, NamespaceCreateListRenameDelete) {
  const std::string id = CreateNamespaceWithKvctl("my-namespace");
  ASSERT_FALSE(id.empty());
  ASSERT_OK_AND_ASSIGN(kv::v1::Namespace ns, GetNamespace(id));
  EXPECT_EQ(ns.title(), "my-namespace");
  CreateNamespaceWithKvctl("another");

  nlohmann::json list = nlohmann::json::parse(KvctlOk({"namespace", "list"}));
  ASSERT_TRUE(list.is_array());
  ASSERT_THAT(list, SizeIs(2));
  EXPECT_EQ(list[0]["title"], "another");  // by title
  EXPECT_EQ(list[1]["title"], "my-namespace");
  EXPECT_EQ(list[1]["id"], id);
  EXPECT_EQ(list[1]["supports_url_encoding"], true);

  KvctlOk({"namespace", "rename", "--namespace-id", id, "--new-name", "renamed"});
  ASSERT_OK_AND_ASSIGN(ns, GetNamespace(id));
  EXPECT_EQ(ns.title(), "renamed");
  KvctlOk({"namespace", "delete", "--namespace-id", id});
  EXPECT_THAT(GetNamespace(id), StatusIs(absl::StatusCode::kNotFound));

  // A duplicate title is the server's error on one line.
  ExpectOneLineError(Kvctl({"namespace", "create", "another"}), 1, "INVALID_ARGUMENT");
}

TEST_F(KvctlTest, BinaryValueFromFileRoundTripsByteExact) {
  const std::string ns = CreateNamespaceWithKvctl("bin");
  std::string value;
  for (int round = 0; round < 4; ++round) {
    for (int b = 0; b < 256; ++b) value.push_back(static_cast<char>(round % 2 ? 255 - b : b));
  }
  const std::string path = dir_->Path("value.bin");
  ASSERT_OK(WriteStringToFile(path, value));
  KvctlOk({"key", "put", kOddKey, "--namespace-id", ns, "--path", path});
  EXPECT_TRUE(KvctlOk({"key", "get", kOddKey, "--namespace-id", ns}) == value);
  // Written bytes are what a gRPC client reads.
  EXPECT_TRUE(Get(ns, kOddKey) == value);
  // And a value written over gRPC reads back the same through kvctl.
  ASSERT_OK(Put(ns, "grpc-written", value + std::string("\0\n\r", 3)));
  EXPECT_TRUE(KvctlOk({"key", "get", "grpc-written", "--namespace-id", ns}) ==
              value + std::string("\0\n\r", 3));

  // Values given on the command line, including an empty one.
  KvctlOk({"key", "put", "text", "hello world\n", "--namespace-id", ns});
  EXPECT_EQ(KvctlOk({"key", "get", "text", "--namespace-id", ns}), "hello world\n");
  KvctlOk({"key", "put", "empty", "", "--namespace-id", ns});
  EXPECT_EQ(KvctlOk({"key", "get", "empty", "--namespace-id", ns}), "");
  EXPECT_EQ(Get(ns, "empty"), "");
}

TEST_F(KvctlTest, LargeValue25MiB) {
  const std::string ns = CreateNamespaceWithKvctl("large");
  const std::string value = RandomBytes(26'214'400, 7);
  const std::string path = dir_->Path("large.bin");
  ASSERT_OK(WriteStringToFile(path, value));
  KvctlOk({"key", "put", "large", "--path", path, "--namespace-id", ns});
  EXPECT_TRUE(KvctlOk({"key", "get", "large", "--namespace-id", ns}) == value);
  ASSERT_OK(WriteStringToFile(path, value + "x"));
  ExpectOneLineError(Kvctl({"key", "put", "large", "--path", path, "--namespace-id", ns}), 1,
                     "Value length of 26214401 exceeds limit of 26214400.");
}

TEST_F(KvctlTest, MetadataTtlAndList) {
  const std::string ns = CreateNamespaceWithKvctl("meta");
  KvctlOk({"key", "put", "with-meta", "v", "--namespace-id", ns, "--metadata",
           R"({"a":[1,2],"b":"x"})"});
  nlohmann::json meta = nlohmann::json::parse(
      KvctlOk({"key", "get", "with-meta", "--namespace-id", ns, "--metadata"}));
  EXPECT_EQ(meta, nlohmann::json::parse(R"({"a":[1,2],"b":"x"})"));
  EXPECT_EQ(KvctlOk({"key", "get", "with-meta", "--metadata", "--namespace-id", ns}),
            meta.dump() + "\n");
  EXPECT_EQ(KvctlOk({"key", "get", "with-meta", "--namespace-id", ns}), "v");
  KvctlOk({"key", "put", "plain", "v", "--namespace-id", ns});
  EXPECT_EQ(KvctlOk({"key", "get", "plain", "--namespace-id", ns, "--metadata"}), "null\n");

  KvctlOk({"key", "put", "with-ttl", "v", "--namespace-id", ns, "--ttl", "120"});
  const int64_t expiration = NowSeconds() + 600;
  KvctlOk({"key", "put", "with-expiration", "v", "--namespace-id", ns,
           absl::StrCat("--expiration=", expiration)});
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry entry, GetEntry(ns, "with-ttl"));
  EXPECT_NEAR(entry.expiration(), NowSeconds() + 120, 20);

  nlohmann::json list = nlohmann::json::parse(KvctlOk({"key", "list", "--namespace-id", ns}));
  ASSERT_THAT(list, SizeIs(4));
  EXPECT_EQ(list[0], nlohmann::json::parse(R"({"name":"plain"})"));
  EXPECT_EQ(list[1]["name"], "with-expiration");
  EXPECT_EQ(list[1]["expiration"], expiration);
  EXPECT_EQ(list[2]["name"], "with-meta");
  EXPECT_EQ(list[2]["metadata"], meta);
  EXPECT_FALSE(list[2].contains("expiration"));
  EXPECT_EQ(list[3]["name"], "with-ttl");
  EXPECT_NEAR(list[3]["expiration"].get<int64_t>(), NowSeconds() + 120, 20);

  // A TTL under the node's minimum (60 s) is refused.
  ExpectOneLineError(Kvctl({"key", "put", "short", "v", "--namespace-id", ns, "--ttl", "30"}), 1,
                     "Invalid expiration_ttl of 30. Expiration TTL must be at least 60.");
  ExpectOneLineError(
      Kvctl({"key", "put", "bad-meta", "v", "--namespace-id", ns, "--metadata", "{nope"}), 1,
      "INVALID_ARGUMENT");
}

TEST_F(KvctlTest, ListFollowsCursorsWithPrefixAndLimit) {
  const std::string ns = CreateNamespaceWithKvctl("list");
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < 2500; ++i) entries.emplace_back(absl::StrFormat("p/%05d", i), "v");
  ASSERT_OK(BulkPut(ns, entries));
  ASSERT_OK(Put(ns, "q", "v"));
  nlohmann::json all = nlohmann::json::parse(KvctlOk({"key", "list", "--namespace-id", ns}));
  ASSERT_THAT(all, SizeIs(2501));
  nlohmann::json prefixed =
      nlohmann::json::parse(KvctlOk({"key", "list", "--namespace-id", ns, "--prefix", "p/"}));
  ASSERT_THAT(prefixed, SizeIs(2500));
  for (int i = 0; i < 2500; ++i) {
    ASSERT_EQ(prefixed[i]["name"], absl::StrFormat("p/%05d", i));
  }
  nlohmann::json limited = nlohmann::json::parse(
      KvctlOk({"key", "list", "--namespace-id", ns, "--prefix", "p/", "--limit", "1234"}));
  ASSERT_THAT(limited, SizeIs(1234));
  EXPECT_EQ(limited[1233]["name"], "p/01233");
  nlohmann::json none =
      nlohmann::json::parse(KvctlOk({"key", "list", "--namespace-id", ns, "--prefix", "zzz"}));
  EXPECT_THAT(none, SizeIs(0));
}

TEST_F(KvctlTest, DeleteAndMissingKey) {
  const std::string ns = CreateNamespaceWithKvctl("del");
  KvctlOk({"key", "put", kOddKey, "v", "--namespace-id", ns});
  KvctlOk({"key", "delete", kOddKey, "--namespace-id", ns});
  CommandResult missing = Kvctl({"key", "get", kOddKey, "--namespace-id", ns});
  EXPECT_TRUE(missing.status.Exited(3)) << missing.status.ToString();
  EXPECT_EQ(missing.stderr_data, "kvctl: key not found\n");
  EXPECT_EQ(missing.stdout_data, "");
  EXPECT_EQ(Get(ns, kOddKey), "<not found>");
  // Deleting a missing key succeeds, as in Workers KV.
  KvctlOk({"key", "delete", kOddKey, "--namespace-id", ns});
}

TEST_F(KvctlTest, BulkPutAndDeleteFromJsonFiles) {
  const std::string ns = CreateNamespaceWithKvctl("bulk");
  const std::string put_path = dir_->Path("bulk.json");
  // "AAEC/w==" is base64 of 00 01 02 ff.
  ASSERT_OK(WriteStringToFile(put_path, R"([
    {"key": "a", "value": "1"},
    {"key": "b", "value": "AAEC/w==", "base64": true},
    {"key": "c", "value": "3", "metadata": {"m": 1}, "expiration_ttl": 3600}
  ])"));
  EXPECT_THAT(KvctlOk({"bulk", "put", put_path, "--namespace-id", ns}), HasSubstr("3"));
  EXPECT_EQ(Get(ns, "a"), "1");
  EXPECT_EQ(Get(ns, "b"), std::string("\x00\x01\x02\xff", 4));
  ASSERT_OK_AND_ASSIGN(kv::v1::Entry c, GetEntry(ns, "c"));
  EXPECT_EQ(nlohmann::json::parse(c.metadata()), nlohmann::json::parse(R"({"m":1})"));
  EXPECT_NEAR(c.expiration(), NowSeconds() + 3600, 30);
  const std::string delete_path = dir_->Path("delete.json");
  ASSERT_OK(WriteStringToFile(delete_path, R"(["a", "b"])"));
  KvctlOk({"bulk", "delete", delete_path, "--namespace-id", ns});
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListNames(ns));
  EXPECT_THAT(names, ElementsAre("c"));
}

TEST_F(KvctlTest, FlagSpellingsAndPlacement) {
  const std::string ns = CreateNamespaceWithKvctl("flags");
  KvctlOk({"--namespace_id", ns, "key", "put", "k", "v1"});
  KvctlOk({"key", "put", absl::StrCat("--namespace-id=", ns), "k2", "v2"});
  KvctlOk({"--addr", central_->grpc_addr(), "key", "put", "k3", "--namespace-id", ns, "--", "-v3"},
          {{"KV_GRPC_ADDR", "127.0.0.1:1"}});
  EXPECT_EQ(Get(ns, "k"), "v1");
  EXPECT_EQ(Get(ns, "k2"), "v2");
  EXPECT_EQ(Get(ns, "k3"), "-v3");
  // Dev mode accepts any account named by flag or environment.
  KvctlOk({"key", "put", "k4", "v4", "--namespace-id", ns, "--account", "devaccount"});
  EXPECT_EQ(Get(ns, "k4"), "v4");
  // wrangler's switches are accepted (and change nothing).
  KvctlOk({"key", "put", "k5", "v5", "--remote", "--namespace-id", ns});
  EXPECT_EQ(KvctlOk({"key", "get", "k5", "--namespace-id", ns, "--remote"}), "v5");
  KvctlOk({"namespace", "delete", "--namespace-id", ns, "--skip-confirmation"});
}

TEST_F(KvctlTest, UsageErrorsExitTwo) {
  CommandResult help = Kvctl({"--help"});
  EXPECT_TRUE(help.status.Exited(0));
  EXPECT_THAT(help.stdout_data, HasSubstr("id=<namespace id>"));
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {},
           {"key"},
           {"key", "frobnicate"},
           {"key", "get", "k"},                                      // no --namespace-id
           {"key", "put", "k", "--namespace-id", "x"},               // no value
           {"key", "put", "k", "v", "--namespace-id", "x", "--path", "/dev/null"},
           {"key", "get", "k", "--namespace-id", "x", "--bogus", "1"},
           {"key", "put", "k", "v", "--namespace-id", "x", "--ttl", "soon"},
           {"kv:namespace", "list"},
           {"namespace", "list", "--output", "yaml"},
           {"bulk", "put", "f.json", "--namespace-id", "x", "--progress", "sometimes"},
           {"bulk", "put", "f.json", "--namespace-id", "x", "--batch_size", "10001"},
       }) {
    CommandResult result = Kvctl(args);
    EXPECT_TRUE(result.status.Exited(2))
        << "kvctl " << absl::StrJoin(args, " ") << ": " << result.status.ToString();
    EXPECT_THAT(result.stderr_data, StartsWith("kvctl: "));
  }
}

TEST_F(KvctlTest, NoServerIsOneLineAndNonZero) {
  // A port nobody listens on: bound and closed again.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  close(fd);
  CommandResult result = Kvctl({"namespace", "list", "--addr", absl::StrCat("127.0.0.1:", port)});
  ExpectOneLineError(result, 5, "UNAVAILABLE");
  EXPECT_THAT(result.stderr_data, HasSubstr(absl::StrCat("127.0.0.1:", port)));

  // An unknown namespace is the server's NOT_FOUND.
  ExpectOneLineError(
      Kvctl({"key", "get", "k", "--namespace-id", "0123456789abcdef0123456789abcdef"}), 3,
      "namespace not found");
}

// `kvctl health`: SERVING and exit 0 while the node serves; exit 5 naming
// the address for a service the node does not know and once it is gone.
TEST_F(KvctlTest, HealthIsServingWhileTheNodeRunsAndFiveOtherwise) {
  EXPECT_EQ(KvctlOk({"health"}), "SERVING\n");
  ExpectOneLineError(Kvctl({"health", "no.such.Service"}), 5, "no.such.Service");
  ExpectOneLineError(Kvctl({"health", "a", "b"}), 2, "usage: kvctl health [SERVICE]");
  ASSERT_OK(central_->Kill());
  CommandResult gone = Kvctl({"health", "--timeout", "5s"});
  ExpectOneLineError(gone, 5, "health check failed");
  EXPECT_THAT(gone.stderr_data, HasSubstr(central_->grpc_addr()));
}

TEST_F(KvctlTest, TokensFromFlagAndEnvironment) {
  const std::string tokens = dir_->Path("tokens");
  ASSERT_OK(WriteStringToFile(tokens, "good-token acct1 write\nread-token acct1 read\n"));
  CentralProcessOptions options;
  options.dev = false;
  options.tokens_file = tokens;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<CentralProcess> secure,
                       CentralProcess::Start(dir_->Path("secure"), options));
  const Env env = {{"KV_GRPC_ADDR", secure->grpc_addr()}};

  CommandResult created = Kvctl({"namespace", "create", "t", "--token", "good-token"}, env);
  ASSERT_TRUE(created.status.Exited(0)) << created.stderr_data;
  const std::string ns = created.stdout_data.substr(3, 32);
  Env with_token = env;
  with_token.emplace_back("KV_TOKEN", "good-token");
  KvctlOk({"key", "put", "k", "v", "--namespace-id", ns}, with_token);
  EXPECT_EQ(KvctlOk({"key", "get", "k", "--namespace-id", ns}, with_token), "v");
  // --token wins over KV_TOKEN.
  ExpectOneLineError(Kvctl({"key", "get", "k", "--namespace-id", ns, "--token", "bad-token"},
                           with_token),
                     4, "UNAUTHENTICATED");
  ExpectOneLineError(Kvctl({"key", "get", "k", "--namespace-id", ns}, env), 4, "UNAUTHENTICATED");
  ExpectOneLineError(
      Kvctl({"key", "put", "k", "changed", "--namespace-id", ns, "--token", "read-token"}, env), 4,
      "PERMISSION_DENIED");
  ExpectOneLineError(Kvctl({"key", "get", "k", "--namespace-id", ns, "--account", "acct2"},
                           with_token),
                     4, "PERMISSION_DENIED");
  EXPECT_EQ(KvctlOk({"key", "get", "k", "--namespace-id", ns, "--token", "read-token"}, env), "v");
  EXPECT_OK(secure->Stop());
}

}  // namespace
}  // namespace kv::testing
