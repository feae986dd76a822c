// Node TLS material loading and the listen policy (DESIGN §6): which
// combinations of flags start a node, and what the refusals say.
#include "common/tls.h"

#include "common/listen_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/harness/process.h"
#include "tests/harness/status_matchers.h"
#include "tests/harness/temp_dir.h"
#include "tests/harness/test_certificates.h"

namespace kv {
namespace {

using ::kv::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(LoadNodeTlsTest, NoneAllOrARefusalNamingWhatIsMissing) {
  absl::StatusOr<TlsMaterial> none = LoadNodeTls({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->cert.empty());

  EXPECT_THAT(LoadNodeTls({.cert = "c.pem", .key = "", .ca = ""}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_key --tls_ca"), Not(HasSubstr("missing: --tls_cert")))));
  EXPECT_THAT(LoadNodeTls({.cert = "", .key = "", .ca = "ca.pem"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tls_cert --tls_key")));

  absl::StatusOr<std::unique_ptr<testing::TempDir>> dir = testing::TempDir::Create("tls-unit");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(testing::MakeTestCertificates((*dir)->path()).ok());
  auto path = [&](const std::string& name) { return (*dir)->Path(name); };
  const std::string garbage = path("garbage.pem");
  const std::string text = path("x.txt");
  ASSERT_TRUE(testing::WriteStringToFile(garbage, "-----BEGIN CERTIFICATE-----\nAA==\n").ok());
  ASSERT_TRUE(testing::WriteStringToFile(text, "not a pem").ok());
  EXPECT_THAT(LoadNodeTls({.cert = path("node.pem"), .key = path("node.key"),
                           .ca = path("missing.pem")}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("--tls_ca: cannot read")));
  EXPECT_THAT(LoadNodeTls({.cert = path("node.pem"), .key = text, .ca = path("ca.pem")}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_key"), HasSubstr("is not a PEM file"))));
  // PEM-looking but wrong: what gRPC would refuse without saying why.
  EXPECT_THAT(LoadNodeTls({.cert = garbage, .key = path("node.key"), .ca = path("ca.pem")}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls_cert: " + garbage + " holds no certificate")));
  EXPECT_THAT(LoadNodeTls({.cert = path("node.pem"), .key = path("node.pem"),
                           .ca = path("ca.pem")}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("holds no private key")));
  EXPECT_THAT(LoadNodeTls({.cert = path("node.pem"), .key = path("rogue.key"),
                           .ca = path("ca.pem")}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not the key of --tls_cert")));
  EXPECT_THAT(LoadNodeTls({.cert = path("node.pem"), .key = path("node.key"), .ca = garbage}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls_ca: " + garbage + " holds no certificate")));
  absl::StatusOr<TlsMaterial> all =
      LoadNodeTls({.cert = path("node.pem"), .key = path("node.key"), .ca = path("ca.pem")});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(all->ca, HasSubstr("BEGIN CERTIFICATE"));
}

// The expiry dates the certificate metrics publish: the node certificate's
// and the CA's, each its own (the test node certificate lasts 2 days; a CA
// made here, 30).
TEST(LoadNodeTlsTest, ReadsWhenTheCertificateAndTheCaExpire) {
  absl::StatusOr<std::unique_ptr<testing::TempDir>> dir = testing::TempDir::Create("tls-dates");
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(testing::MakeTestCertificates((*dir)->path()).ok());
  auto path = [&](const std::string& name) { return (*dir)->Path(name); };
  absl::StatusOr<testing::CommandResult> made = testing::RunCommand(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", path("long-ca.key"), "-out", path("long-ca.pem"), "-days", "30",
       "-subj", "/CN=long-ca"},
      (*dir)->path());
  ASSERT_TRUE(made.ok() && made->status.Exited(0)) << (made.ok() ? made->stderr_data : "");
  const absl::Time now = absl::Now();
  absl::StatusOr<TlsMaterial> material = LoadNodeTls(
      {.cert = path("node.pem"), .key = path("node.key"), .ca = path("long-ca.pem")});
  ASSERT_TRUE(material.ok()) << material.status();
  EXPECT_GT(material->cert_not_after, now + absl::Hours(47));
  EXPECT_LT(material->cert_not_after, now + absl::Hours(49));
  EXPECT_GT(material->ca_not_after, now + absl::Hours(30 * 24 - 1));
  EXPECT_LT(material->ca_not_after, now + absl::Hours(30 * 24 + 1));
  // A CA bundle (a rotation: the 30-day CA, then one of 10 days): the
  // earliest expiry is the one to watch, wherever it is in the file.
  made = testing::RunCommand(
      {"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", path("short-ca.key"), "-out", path("short-ca.pem"), "-days", "10",
       "-subj", "/CN=short-ca"},
      (*dir)->path());
  ASSERT_TRUE(made.ok() && made->status.Exited(0)) << (made.ok() ? made->stderr_data : "");
  absl::StatusOr<std::string> long_ca = testing::ReadFileToString(path("long-ca.pem"));
  absl::StatusOr<std::string> short_ca = testing::ReadFileToString(path("short-ca.pem"));
  ASSERT_TRUE(long_ca.ok() && short_ca.ok());
  ASSERT_TRUE(testing::WriteStringToFile(path("bundle.pem"), *long_ca + *short_ca).ok());
  absl::StatusOr<TlsMaterial> bundle = LoadNodeTls(
      {.cert = path("node.pem"), .key = path("node.key"), .ca = path("bundle.pem")});
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_GT(bundle->ca_not_after, now + absl::Hours(10 * 24 - 1));
  EXPECT_LT(bundle->ca_not_after, now + absl::Hours(10 * 24 + 1));
  absl::StatusOr<TlsMaterial> none = LoadNodeTls({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->cert_not_after, absl::InfinitePast());
  EXPECT_EQ(none->ca_not_after, absl::InfinitePast());
}

TEST(ListenPolicyTest, NonLoopbackNeedsTlsOrInsecureAndAuth) {
  // Loopback: anything with auth or dev mode.
  EXPECT_TRUE(CheckListenPolicy("127.0.0.1:1", /*dev=*/true, false, "", false).ok());
  EXPECT_TRUE(CheckListenPolicy("127.0.0.1:1", false, false, "tokens", false).ok());
  EXPECT_THAT(CheckListenPolicy("127.0.0.1:1", false, false, "", false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--tokens_file")));
  // Another address: TLS or --insecure, never dev mode.
  EXPECT_THAT(CheckListenPolicy("0.0.0.0:1", false, false, "tokens", false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--tls_cert"), HasSubstr("--insecure"))));
  EXPECT_TRUE(CheckListenPolicy("0.0.0.0:1", false, false, "tokens", /*tls=*/true).ok());
  EXPECT_TRUE(CheckListenPolicy("0.0.0.0:1", false, /*insecure=*/true, "tokens", false).ok());
  EXPECT_THAT(CheckListenPolicy("0.0.0.0:1", /*dev=*/true, true, "", true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dev mode")));
}

TEST(NodeCertificateTest, RequiredOnlyWithTls) {
  EXPECT_TRUE(CheckNodeCertificate(/*required=*/false, /*presented=*/false).ok());
  EXPECT_TRUE(CheckNodeCertificate(true, true).ok());
  EXPECT_THAT(CheckNodeCertificate(true, false),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("mutual TLS")));
}

}  // namespace
}  // namespace kv
