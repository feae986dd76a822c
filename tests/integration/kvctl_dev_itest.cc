// `kvctl dev` end to end: the real kvctl starts a cluster of real kv-central
// and kv-edge processes on free ports; kvctl commands run against it through
// the cluster.env it writes; SIGTERM stops every node and a second run on
// the same directory finds the data.
#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/harness/eventually.h"
#include "tests/harness/process.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"

namespace kv::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::SizeIs;
using ::testing::StartsWith;

std::string BinOrDefault(const char* env, const char* fallback) {
  const char* v = getenv(env);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// KEY='value' lines of a cluster.env.
std::map<std::string, std::string> ParseEnvFile(const std::string& text) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, "export ")) continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    std::string value(line.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    out[std::string(line.substr(0, eq))] = value;
  }
  return out;
}

std::vector<std::string> Words(const std::string& s) {
  return absl::StrSplit(s, ' ', absl::SkipEmpty());
}

bool Alive(const std::string& pid) { return kill(std::stoi(pid), 0) == 0; }

class KvctlDevTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(dir_, TempDir::Create("kvctl-dev"));
    kvctl_ = BinOrDefault("KVCTL_BIN", KVCTL_BIN_DEFAULT);
    central_bin_ = BinOrDefault("KV_CENTRAL_BIN", KV_CENTRAL_BIN_DEFAULT);
    edge_bin_ = BinOrDefault("KV_EDGE_BIN", KV_EDGE_BIN_DEFAULT);
    data_dir_ = dir_->Path("cluster");
  }

  void TearDown() override {
    if (dev_ != nullptr && dev_->IsRunning()) {
      (void)dev_->Terminate(absl::Seconds(30));
    }
    if (HasFailure()) dir_->Keep();
  }

  // Starts `kvctl dev` and waits for its cluster.env.
  void StartDev(int centrals, int edges) {
    ProcessOptions options;
    options.argv = {kvctl_,
                    "dev",
                    "--data_dir",
                    data_dir_,
                    absl::StrCat("--centrals=", centrals),
                    absl::StrCat("--edges=", edges),
                    "--central_bin",
                    central_bin_,
                    "--edge_bin",
                    edge_bin_};
    options.stdout_path = dir_->Path(absl::StrCat("dev-", ++runs_, ".out"));
    options.stderr_path = dir_->Path(absl::StrCat("dev-", runs_, ".err"));
    ASSERT_OK_AND_ASSIGN(dev_, Process::Start(options));
    const std::string env_path = data_dir_ + "/cluster.env";
    ASSERT_EVENTUALLY(
        [&] {
          ASSERT_TRUE(dev_->IsRunning()) << dev_->LogTail();
          absl::StatusOr<std::string> text = ReadFileToString(env_path);
          ASSERT_TRUE(text.ok());
          env_ = ParseEnvFile(*text);
        },
        absl::Seconds(60));
  }

  // Runs kvctl with the cluster's endpoints from --config and no KV_*
  // environment.
  CommandResult Kvctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {kvctl_, "--config", data_dir_ + "/cluster.env"};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> result =
        RunCommand(argv, dir_->path(),
                   {{"KV_GRPC_ADDR", std::nullopt},
                    {"KV_TOKEN", std::nullopt},
                    {"KV_ACCOUNT", std::nullopt},
                    {"KVCTL_CONFIG", std::nullopt}});
    EXPECT_OK(result);
    return result.ok() ? *result : CommandResult{};
  }

  std::string KvctlOk(std::vector<std::string> args) {
    CommandResult r = Kvctl(args);
    EXPECT_TRUE(r.status.Exited(0)) << "kvctl " << absl::StrJoin(args, " ") << ": "
                                    << r.status.ToString() << "\n" << r.stderr_data;
    return r.stdout_data;
  }

  void StopDev() {
    ASSERT_OK_AND_ASSIGN(ExitStatus status, dev_->Terminate(absl::Seconds(60)));
    EXPECT_TRUE(status.Exited(0)) << status.ToString() << "\n" << dev_->LogTail();
  }

  std::unique_ptr<TempDir> dir_;
  std::string kvctl_, central_bin_, edge_bin_, data_dir_;
  std::unique_ptr<Process> dev_;
  std::map<std::string, std::string> env_;
  int runs_ = 0;
};

TEST_F(KvctlDevTest, ClusterRoundTripStopAndRestartKeepsData) {
  ASSERT_NO_FATAL_FAILURE(StartDev(3, 2));
  for (const char* name :
       {"KV_GRPC_ADDR", "KV_REST_URL", "KV_CENTRAL_GRPC_ADDRS", "KV_CENTRAL_REST_URLS",
        "KV_EDGE_GRPC_ADDRS", "KV_EDGE_REST_URLS", "KV_WORKERD_URLS", "KV_METRICS_URLS",
        "KV_CENTRAL_PIDS", "KV_EDGE_PIDS", "KV_TOKEN", "KV_ACCOUNT"}) {
    EXPECT_EQ(env_.count(name), 1u) << name;
  }
  const std::vector<std::string> centrals = Words(env_["KV_CENTRAL_GRPC_ADDRS"]);
  const std::vector<std::string> edges = Words(env_["KV_EDGE_GRPC_ADDRS"]);
  ASSERT_THAT(centrals, SizeIs(3));
  ASSERT_THAT(edges, SizeIs(2));
  EXPECT_EQ(env_["KV_GRPC_ADDR"], centrals[0]);
  for (const std::string& a : centrals) EXPECT_THAT(a, MatchesRegex("127\\.0\\.0\\.1:[0-9]+"));
  if (!env_["KV_REST_URL"].empty()) {
    EXPECT_THAT(env_["KV_REST_URL"], MatchesRegex("http://127\\.0\\.0\\.1:[0-9]+/client/v4"));
  }
  EXPECT_GE(Words(env_["KV_METRICS_URLS"]).size(), 2u);
  std::vector<std::string> pids = Words(env_["KV_CENTRAL_PIDS"]);
  for (const std::string& p : Words(env_["KV_EDGE_PIDS"])) pids.push_back(p);
  ASSERT_THAT(pids, SizeIs(5));
  for (const std::string& p : pids) EXPECT_TRUE(Alive(p)) << p;

  // Round trip: write at the central, read through the first edge.
  const std::string created = KvctlOk({"namespace", "create", "dev-test"});
  ASSERT_THAT(created, MatchesRegex("id=[0-9a-f]{32}\n"));
  const std::string ns = created.substr(3, 32);
  KvctlOk({"key", "put", "greeting", "hello", "--namespace-id", ns, "--metadata", R"({"v":1})"});
  EXPECT_EQ(KvctlOk({"--addr", edges[0], "key", "get", "greeting", "--namespace-id", ns}),
            "hello");
  // The second edge prefers the second central: the write reaches it by
  // replication.
  EXPECT_EVENTUALLY([&] {
    CommandResult r = Kvctl({"--addr", edges[1], "key", "get", "greeting", "--namespace-id", ns});
    ASSERT_TRUE(r.status.Exited(0)) << r.stderr_data;
    ASSERT_EQ(r.stdout_data, "hello");
  });
  nlohmann::json got = nlohmann::json::parse(
      KvctlOk({"key", "get", "greeting", "--namespace-id", ns, "--output", "json"}));
  EXPECT_EQ(got["value"], "hello");
  EXPECT_EQ(got["metadata"], nlohmann::json::parse(R"({"v":1})"));

  // Bulk put of 10,000 entries from a wrangler-format file, with progress.
  nlohmann::json entries = nlohmann::json::array();
  for (int i = 0; i < 10000; ++i) {
    entries.push_back({{"key", absl::StrFormat("bulk/%05d", i)}, {"value", absl::StrCat("v", i)}});
  }
  entries[7]["metadata"] = {{"n", 7}};
  ASSERT_OK(WriteStringToFile(dir_->Path("bulk.json"), entries.dump()));
  CommandResult put = Kvctl({"bulk", "put", dir_->Path("bulk.json"), "--namespace-id", ns,
                             "--progress", "always"});
  ASSERT_TRUE(put.status.Exited(0)) << put.stderr_data;
  EXPECT_EQ(put.stdout_data, "Success! 10000 keys written\n");
  EXPECT_THAT(put.stderr_data, HasSubstr("bulk put: 1000/10000 (10%)\n"));
  EXPECT_THAT(put.stderr_data, HasSubstr("bulk put: 10000/10000 (100%)\n"));
  // Piped without --progress: no progress at all.
  CommandResult quiet = Kvctl({"bulk", "put", dir_->Path("bulk.json"), "--namespace-id", ns,
                               "--output", "json"});
  ASSERT_TRUE(quiet.status.Exited(0)) << quiet.stderr_data;
  EXPECT_EQ(quiet.stderr_data, "");
  nlohmann::json summary = nlohmann::json::parse(quiet.stdout_data);
  EXPECT_EQ(summary["written"], 10000);
  EXPECT_EQ(summary["requests"], 10);
  EXPECT_THAT(nlohmann::json::parse(
                  KvctlOk({"key", "list", "--namespace-id", ns, "--prefix", "bulk/"})),
              SizeIs(10000));

  ASSERT_OK(WriteStringToFile(dir_->Path("keys.json"),
                              R"(["bulk/00007", "bulk/09999", "missing"])"));
  nlohmann::json values = nlohmann::json::parse(
      KvctlOk({"bulk", "get", dir_->Path("keys.json"), "--namespace-id", ns, "--metadata"}));
  EXPECT_EQ(values["bulk/00007"]["value"], "v7");
  EXPECT_EQ(values["bulk/00007"]["metadata"], nlohmann::json::parse(R"({"n":7})"));
  EXPECT_EQ(values["bulk/09999"]["value"], "v9999");
  EXPECT_TRUE(values["missing"].is_null());
  EXPECT_EQ(KvctlOk({"bulk", "delete", dir_->Path("keys.json"), "--namespace-id", ns}),
            "Success! 3 keys deleted\n");

  // Stop: every node exits, cluster.env goes away.
  ASSERT_NO_FATAL_FAILURE(StopDev());
  for (const std::string& p : pids) EXPECT_FALSE(Alive(p)) << p;
  EXPECT_FALSE(ReadFileToString(data_dir_ + "/cluster.env").ok());

  // Start again on the same directory: new ports, same data.
  ASSERT_NO_FATAL_FAILURE(StartDev(3, 2));
  EXPECT_EQ(KvctlOk({"key", "get", "greeting", "--namespace-id", ns}), "hello");
  EXPECT_EQ(KvctlOk({"key", "get", "bulk/00042", "--namespace-id", ns}), "v42");
  EXPECT_THAT(nlohmann::json::parse(
                  KvctlOk({"key", "list", "--namespace-id", ns, "--prefix", "bulk/"})),
              SizeIs(9998));
  ASSERT_NO_FATAL_FAILURE(StopDev());
}

TEST_F(KvctlDevTest, SecondDevBadInputAndADyingNodeAreOneLineErrors) {
  ASSERT_NO_FATAL_FAILURE(StartDev(1, 1));
  // The directory is taken.
  absl::StatusOr<CommandResult> second =
      RunCommand({kvctl_, "dev", "--data_dir", data_dir_, "--central_bin", central_bin_,
                  "--edge_bin", edge_bin_},
                 dir_->path());
  ASSERT_OK(second);
  EXPECT_TRUE(second->status.Exited(1)) << second->status.ToString();
  EXPECT_THAT(second->stderr_data, StartsWith("kvctl: another kvctl dev is running on"));
  EXPECT_EQ(std::count(second->stderr_data.begin(), second->stderr_data.end(), '\n'), 1);

  const std::string ns = KvctlOk({"namespace", "create", "errors"}).substr(3, 32);
  auto expect_bad_input = [&](const std::vector<std::string>& args, absl::string_view needle) {
    CommandResult r = Kvctl(args);
    EXPECT_TRUE(r.status.Exited(6)) << absl::StrJoin(args, " ") << ": " << r.status.ToString();
    EXPECT_THAT(r.stderr_data, StartsWith("kvctl: "));
    EXPECT_THAT(r.stderr_data, HasSubstr(std::string(needle)));
    EXPECT_EQ(std::count(r.stderr_data.begin(), r.stderr_data.end(), '\n'), 1) << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "");
  };
  ASSERT_OK(WriteStringToFile(dir_->Path("broken.json"), "[{\"key\": \"a\", "));
  expect_bad_input({"bulk", "put", dir_->Path("broken.json"), "--namespace-id", ns},
                   "broken.json: not valid JSON");
  ASSERT_OK(WriteStringToFile(dir_->Path("novalue.json"), R"([{"key":"a","value":"1"},{"key":"b"}])"));
  expect_bad_input({"bulk", "put", dir_->Path("novalue.json"), "--namespace-id", ns},
                   "novalue.json: entry 1: \"value\" must be a string");
  expect_bad_input({"bulk", "delete", dir_->Path("absent.json"), "--namespace-id", ns},
                   "cannot read");
  expect_bad_input({"key", "put", "k", "--path", dir_->Path("absent.bin"), "--namespace-id", ns},
                   "absent.bin");
  // Nothing of the broken files was written.
  EXPECT_EQ(KvctlOk({"key", "list", "--namespace-id", ns}), "[]\n");
  // A config file that does not exist is named.
  absl::StatusOr<CommandResult> no_config =
      RunCommand({kvctl_, "--config", dir_->Path("nope.env"), "namespace", "list"}, dir_->path());
  ASSERT_OK(no_config);
  EXPECT_TRUE(no_config->status.Exited(6));
  EXPECT_THAT(no_config->stderr_data, HasSubstr("cannot read config file"));

  // A node that dies takes the cluster down with one clear line, exit 1.
  const std::vector<std::string> central_pids = Words(env_["KV_CENTRAL_PIDS"]);
  const std::vector<std::string> edge_pids = Words(env_["KV_EDGE_PIDS"]);
  ASSERT_THAT(central_pids, SizeIs(1));
  ASSERT_THAT(edge_pids, SizeIs(1));
  ASSERT_EQ(kill(std::stoi(central_pids[0]), SIGKILL), 0);
  ASSERT_OK_AND_ASSIGN(ExitStatus died, dev_->Wait(absl::Seconds(30)));
  EXPECT_TRUE(died.Exited(1)) << died.ToString();
  EXPECT_FALSE(Alive(edge_pids[0]));
  ASSERT_OK_AND_ASSIGN(std::string err, ReadFileToString(dir_->Path("dev-1.err")));
  EXPECT_THAT(err, HasSubstr("kvctl: central-1 exited (signal 9"));
}

}  // namespace
}  // namespace kv::testing
