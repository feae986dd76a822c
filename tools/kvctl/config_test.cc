#include "tools/kvctl/config.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/kvctl/output.h"

namespace kv::kvctl {
namespace {

using ::testing::HasSubstr;

TEST(ConfigTest, ParsesBothSpellingsQuotesAndComments) {
  auto parsed = ParseConfig(
      "# comment\n"
      "addr = 127.0.0.1:1\n"
      "export KV_TOKEN='tok en'\n"
      "KV_ACCOUNT=\"acct\"\n"
      "KV_REST_URL=''\n"
      "\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)["addr"], "127.0.0.1:1");
  EXPECT_EQ((*parsed)["token"], "tok en");
  EXPECT_EQ((*parsed)["account"], "acct");
  EXPECT_THAT(ParseConfig("addr 1\n").status().message(), HasSubstr("line 1"));
}

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kvctl-config-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_ / "xdg" / "kvctl");
    sources_.getenv = [this](const char* name) -> std::string {
      auto it = env_.find(name);
      return it == env_.end() ? "" : it->second;
    };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path) << text;
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  EndpointSources sources_;
};

TEST_F(ResolveTest, FlagBeatsEnvBeatsFileBeatsDefault) {
  auto e = ResolveEndpoint(sources_);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->addr, "127.0.0.1:7100");
  EXPECT_EQ(e->token, "");

  Write(dir_ / "xdg" / "kvctl" / "config", "addr=file:1\ntoken=file-token\naccount=file-acct\n");
  env_["XDG_CONFIG_HOME"] = (dir_ / "xdg").string();
  e = ResolveEndpoint(sources_);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->addr, "file:1");
  EXPECT_EQ(e->token, "file-token");
  EXPECT_EQ(e->account, "file-acct");

  env_["KV_GRPC_ADDR"] = "env:2";
  env_["KV_TOKEN"] = "env-token";
  e = ResolveEndpoint(sources_);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->addr, "env:2");
  EXPECT_EQ(e->token, "env-token");
  EXPECT_EQ(e->account, "file-acct");

  sources_.flag_addr = "flag:3";
  e = ResolveEndpoint(sources_);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->addr, "flag:3");
  EXPECT_EQ(e->tls_ca, "");

  Write(dir_ / "xdg" / "kvctl" / "config", "KV_TLS_CA=/file/ca.pem\n");
  EXPECT_EQ(ResolveEndpoint(sources_)->tls_ca, "/file/ca.pem");
  env_["KV_TLS_CA"] = "/env/ca.pem";
  EXPECT_EQ(ResolveEndpoint(sources_)->tls_ca, "/env/ca.pem");
  sources_.flag_tls_ca = "/flag/ca.pem";
  EXPECT_EQ(ResolveEndpoint(sources_)->tls_ca, "/flag/ca.pem");
}

TEST_F(ResolveTest, ExplicitConfigMustExistAndParse) {
  sources_.flag_config = (dir_ / "missing").string();
  EXPECT_THAT(ResolveEndpoint(sources_).status().message(), HasSubstr("cannot read config file"));
  Write(dir_ / "bad", "garbage\n");
  sources_.flag_config = (dir_ / "bad").string();
  EXPECT_THAT(ResolveEndpoint(sources_).status().message(), HasSubstr("line 1"));
  Write(dir_ / "cluster.env", "export KV_GRPC_ADDR='127.0.0.1:5'\nexport KV_TOKEN='dev'\n");
  env_["KVCTL_CONFIG"] = (dir_ / "cluster.env").string();
  sources_.flag_config = "";
  auto e = ResolveEndpoint(sources_);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->addr, "127.0.0.1:5");
  EXPECT_EQ(e->token, "dev");
}

TEST(OutputTest, Utf8Check) {
  EXPECT_TRUE(IsUtf8("plain"));
  EXPECT_TRUE(IsUtf8("\xd0\xba\xf0\x9f\x94\x91"));
  EXPECT_FALSE(IsUtf8(std::string("\xff", 1)));
  EXPECT_FALSE(IsUtf8("\xd0"));
  EXPECT_FALSE(IsUtf8("\xc0\x80"));  // overlong
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));  // surrogate
}

}  // namespace
}  // namespace kv::kvctl
