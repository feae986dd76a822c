#include "common/auth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kv {
namespace {

constexpr char kTokens[] = R"(# comment
tok-w acct1 write

tok-r acct1 read
tok-b acct2 write
)";

TEST(AuthTest, AuthenticatesKnownBearerTokens) {
  auto auth = TokenAuthenticator::FromText(kTokens);
  ASSERT_TRUE(auth.ok()) << auth.status();
  absl::StatusOr<Principal> p = (*auth)->Authenticate("Bearer tok-w");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->account_id, "acct1");
  EXPECT_EQ(p->scope, Scope::kWrite);
  EXPECT_EQ((*auth)->Authenticate("").status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*auth)->Authenticate("Bearer nope").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*auth)->Authenticate("tok-w").status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AuthTest, AuthorizesAccountAndScope) {
  auto auth = *TokenAuthenticator::FromText(kTokens);
  Principal writer = *auth->Authenticate("Bearer tok-w");
  Principal reader = *auth->Authenticate("Bearer tok-r");
  EXPECT_EQ(*auth->Authorize(writer, "", Scope::kWrite), "acct1");
  EXPECT_EQ(*auth->Authorize(writer, "acct1", Scope::kWrite), "acct1");
  EXPECT_EQ(auth->Authorize(writer, "acct2", Scope::kRead).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(auth->Authorize(reader, "acct1", Scope::kRead).ok());
  absl::Status s = auth->Authorize(reader, "acct1", Scope::kWrite).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("read-only"), std::string::npos);
}

TEST(AuthTest, RejectsMalformedFiles) {
  EXPECT_EQ(TokenAuthenticator::FromText("tok acct1").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenAuthenticator::FromText("tok acct1 admin").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenAuthenticator::FromText("a x write\na y write").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenAuthenticator::FromText("a bad/acct write").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AuthTest, OpenModeAllowsEverythingWithADefaultAccount) {
  auto auth = TokenAuthenticator::Open("dev");
  absl::StatusOr<Principal> p = auth->Authenticate("");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*auth->Authorize(*p, "", Scope::kWrite), "dev");
  EXPECT_EQ(*auth->Authorize(*p, "other", Scope::kWrite), "other");
}

}  // namespace
}  // namespace kv

namespace kv {
namespace {

TEST(AuthTest, EdgeTokensSubscribeButNeitherReadNorWrite) {
  auto auth = *TokenAuthenticator::FromText("tok-e edges edge\ntok-w acct1 write\n");
  Principal edge = *auth->Authenticate("Bearer tok-e");
  Principal writer = *auth->Authenticate("Bearer tok-w");
  EXPECT_TRUE(auth->AuthorizeEdge(edge).ok());
  EXPECT_EQ(auth->AuthorizeEdge(writer).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(auth->Authorize(edge, "edges", Scope::kRead).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(TokenAuthenticator::Open("dev")->AuthorizeEdge(
      *TokenAuthenticator::Open("dev")->Authenticate("")).ok());
}

using ::testing::HasSubstr;

TEST(AuthTest, MetricsTokensScrapeAndNothingElse) {
  auto auth = *TokenAuthenticator::FromText("tok-m scrapers metrics\ntok-w acct1 write\n"
                                            "tok-e edges edge\n");
  Principal scraper = *auth->Authenticate("Bearer tok-m");
  EXPECT_TRUE(auth->AuthorizeMetrics(scraper).ok());
  for (const char* other : {"Bearer tok-w", "Bearer tok-e"}) {
    EXPECT_EQ(auth->AuthorizeMetrics(*auth->Authenticate(other)).code(),
              absl::StatusCode::kPermissionDenied)
        << other;
  }
  for (Scope needed : {Scope::kRead, Scope::kWrite}) {
    absl::StatusOr<std::string> records = auth->Authorize(scraper, "", needed);
    EXPECT_EQ(records.status().code(), absl::StatusCode::kPermissionDenied);
    EXPECT_THAT(records.status().message(), HasSubstr("a metrics token cannot read or write"));
  }
  EXPECT_EQ(auth->AuthorizeEdge(scraper).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(TokenAuthenticator::Open("dev")->AuthorizeMetrics(
      *TokenAuthenticator::Open("dev")->Authenticate("")).ok());
  // The scope is spelled out in the file's error.
  EXPECT_THAT(TokenAuthenticator::FromText("t a scrape\n").status().message(),
              HasSubstr("<read|write|edge|metrics>"));
}

}  // namespace
}  // namespace kv
