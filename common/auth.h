#ifndef KV_COMMON_AUTH_H_
#define KV_COMMON_AUTH_H_

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kv {

// kEdge: an edge node's token for the invalidation stream (every account's
// changes); it grants no client reads or writes. kMetrics: a scraper's token
// for the nodes' /metrics; it grants nothing else.
enum class Scope { kRead, kWrite, kEdge, kMetrics };

// Who is calling: the account a token belongs to and what it may do.
struct Principal {
  std::string account_id;
  Scope scope = Scope::kRead;
  // Dev mode: any account, read and write.
  bool open = false;
};

// Bearer-token authentication and authorization, shared by gRPC and HTTP.
// A tokens file has one token per line:
// `<token> <account_id> <read|write|edge|metrics>`;
// blank lines and lines starting with '#' are ignored.
// Immutable after construction; thread-safe.
class TokenAuthenticator {
 public:
  // INVALID_ARGUMENT naming the line when the file is malformed; NOT_FOUND
  // when it cannot be read.
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> FromFile(
      const std::string& path);
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> FromText(
      absl::string_view text);
  // Dev mode: every request is allowed, with or without a token, and
  // `default_account` is used when a request names none.
  static std::unique_ptr<TokenAuthenticator> Open(std::string default_account);

  // `authorization` is the header value ("Bearer <token>"), possibly empty.
  // UNAUTHENTICATED when missing, malformed or unknown.
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization) const;

  // Checks that `principal` may subscribe to invalidation streams (an edge
  // token, or dev mode). PERMISSION_DENIED otherwise.
  absl::Status AuthorizeEdge(const Principal& principal) const;

  // Checks that `principal` may read a node's /metrics (a metrics token, or
  // dev mode). PERMISSION_DENIED otherwise.
  absl::Status AuthorizeMetrics(const Principal& principal) const;

  // Resolves the account a request acts on (`requested` may be empty: the
  // principal's own) and checks the scope. PERMISSION_DENIED for another
  // account's token, a read-only token writing, or an edge or metrics token.
  absl::StatusOr<std::string> Authorize(const Principal& principal,
                                        absl::string_view requested_account,
                                        Scope needed) const;

  bool is_open() const { return open_; }
  const std::string& default_account() const { return default_account_; }

 private:
  TokenAuthenticator() = default;
  bool open_ = false;
  std::string default_account_;
  absl::flat_hash_map<std::string, Principal> tokens_;
};

}  // namespace kv

#endif  // KV_COMMON_AUTH_H_
