#include "common/auth.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/error_space.h"
#include "common/validation.h"

namespace kv {
namespace {

absl::Status AuthError(absl::Status status) {
  const int http = status.code() == absl::StatusCode::kUnauthenticated ? 401 : 403;
  return WithHttpDetail(std::move(status), http, kCfAuthError);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::FromFile(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read tokens file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return FromText(text.str());
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::FromText(
    absl::string_view text) {
  auto auth = std::unique_ptr<TokenAuthenticator>(new TokenAuthenticator());
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3 || (fields[2] != "read" && fields[2] != "write" &&
                               fields[2] != "edge" && fields[2] != "metrics")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens file line ", line_number,
          ": expected `<token> <account_id> <read|write|edge|metrics>`"));
    }
    if (absl::Status s = ValidateAccountId(fields[1]); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("tokens file line ", line_number, ": ", s.message()));
    }
    const Scope scope = fields[2] == "write"     ? Scope::kWrite
                        : fields[2] == "edge"    ? Scope::kEdge
                        : fields[2] == "metrics" ? Scope::kMetrics
                                                 : Scope::kRead;
    Principal principal{std::string(fields[1]), scope, false};
    if (!auth->tokens_.emplace(std::string(fields[0]), principal).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("tokens file line ", line_number, ": duplicate token"));
    }
  }
  return auth;
}

std::unique_ptr<TokenAuthenticator> TokenAuthenticator::Open(std::string default_account) {
  auto auth = std::unique_ptr<TokenAuthenticator>(new TokenAuthenticator());
  auth->open_ = true;
  auth->default_account_ = std::move(default_account);
  return auth;
}

absl::StatusOr<Principal> TokenAuthenticator::Authenticate(
    absl::string_view authorization) const {
  if (open_) return Principal{default_account_, Scope::kWrite, true};
  if (authorization.empty()) {
    return AuthError(absl::UnauthenticatedError(
        "Authentication error: no API token (send \"Authorization: Bearer <token>\")"));
  }
  absl::string_view token = authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ") && !absl::ConsumePrefix(&token, "bearer ")) {
    return AuthError(absl::UnauthenticatedError(
        "Authentication error: the Authorization header must be \"Bearer <token>\""));
  }
  token = absl::StripAsciiWhitespace(token);
  auto it = tokens_.find(token);
  if (it == tokens_.end()) {
    return AuthError(absl::UnauthenticatedError("Authentication error: unknown API token"));
  }
  return it->second;
}

absl::Status TokenAuthenticator::AuthorizeEdge(const Principal& principal) const {
  if (principal.open || principal.scope == Scope::kEdge) return absl::OkStatus();
  return AuthError(absl::PermissionDeniedError(
      "Authentication error: invalidation streams need an edge token"));
}

absl::Status TokenAuthenticator::AuthorizeMetrics(const Principal& principal) const {
  if (principal.open || principal.scope == Scope::kMetrics) return absl::OkStatus();
  return AuthError(absl::PermissionDeniedError(
      "Authentication error: /metrics needs a metrics token"));
}

absl::StatusOr<std::string> TokenAuthenticator::Authorize(
    const Principal& principal, absl::string_view requested_account, Scope needed) const {
  if (principal.open) {
    if (requested_account.empty()) return principal.account_id;
    if (absl::Status s = ValidateAccountId(requested_account); !s.ok()) return s;
    return std::string(requested_account);
  }
  if (!requested_account.empty() && requested_account != principal.account_id) {
    return AuthError(absl::PermissionDeniedError(absl::StrCat(
        "Authentication error: this token belongs to another account than \"",
        requested_account.substr(0, 64), "\"")));
  }
  if (principal.scope == Scope::kEdge || principal.scope == Scope::kMetrics) {
    return AuthError(absl::PermissionDeniedError(absl::StrCat(
        "Authentication error: ", principal.scope == Scope::kEdge ? "an edge" : "a metrics",
        " token cannot read or write records")));
  }
  if (needed == Scope::kWrite && principal.scope != Scope::kWrite) {
    return AuthError(absl::PermissionDeniedError(
        "Authentication error: this token is read-only and cannot write"));
  }
  return principal.account_id;
}

}  // namespace kv
