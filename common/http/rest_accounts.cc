// REST v4 account discovery: GET /client/v4/memberships and
// /client/v4/accounts, each listing the one account the caller's token acts
// on (in dev mode the node's default account). Cloudflare lists every
// account a user belongs to; here a token belongs to exactly one. Wrangler
// calls /memberships?page=1 when CLOUDFLARE_ACCOUNT_ID is not set, the SDK's
// accounts.list() calls /accounts.
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/error_space.h"
#include "common/http/http_error.h"
#include "common/http/rest_routes.h"

namespace kv::http {
namespace {

using json = nlohmann::json;

constexpr char kMemberships[] = "/client/v4/memberships";
constexpr char kAccounts[] = "/client/v4/accounts";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// An account has no name of its own here: its id stands for it.
json AccountJson(const std::string& account) { return json{{"id", account}, {"name", account}}; }

absl::Status ListAccounts(const RestCall& call) {
  if (call.request.method != "GET") {
    return WithHttpDetail(absl::InvalidArgumentError(absl::StrCat(
                              "Method ", call.request.method.substr(0, 16), " is not allowed on ",
                              call.request.path.substr(0, 64))),
                          405, 10405);
  }
  absl::StatusOr<Paging> paging = ParsePaging(call.query, 20);
  if (!paging.ok()) return paging.status();
  absl::StatusOr<std::string> account = call.api.CallerAccount(call.context);
  if (!account.ok()) return account.status();
  const bool memberships = absl::StartsWith(call.request.path, kMemberships);
  json result = json::array();
  if (paging->page == 1) {
    if (memberships) {
      result.push_back(json{{"id", *account},
                            {"status", "accepted"},
                            {"account", AccountJson(*account)}});
    } else {
      result.push_back(AccountJson(*account));
    }
  }
  const json info{{"page", paging->page},
                  {"per_page", paging->per_page},
                  {"count", result.size()},
                  {"total_count", 1},
                  {"total_pages", 1}};
  RenderRestSuccess(Dump(result), Dump(info), call.response);
  return absl::OkStatus();
}

}  // namespace

bool IsAccountDiscoveryPath(absl::string_view path) {
  absl::ConsumeSuffix(&path, "/");
  return path == kMemberships || path == kAccounts;
}

absl::Status HandleAccountDiscovery(const RestCall& call) {
  absl::Status s = ListAccounts(call);
  if (!s.ok()) RenderRestError(s, call.response);
  return s;
}

}  // namespace kv::http
