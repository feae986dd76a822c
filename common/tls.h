#ifndef KV_COMMON_TLS_H_
#define KV_COMMON_TLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kv {

// A node's TLS material (DESIGN §6), as PEM file paths: its certificate
// chain and private key, and the CA that signs the cluster's node
// certificates. All empty: plain text.
struct TlsFiles {
  std::string cert;
  std::string key;
  std::string ca;

  bool enabled() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};

// The PEM contents of a node's TlsFiles, read once at start, and when its
// certificate and the CA's stop being valid (InfinitePast without TLS; for
// a CA file of several certificates, the earliest).
struct TlsMaterial {
  std::string cert;
  std::string key;
  std::string ca;
  absl::Time cert_not_after = absl::InfinitePast();
  absl::Time ca_not_after = absl::InfinitePast();
};

// Reads a node's files: all three or none (INVALID_ARGUMENT naming the
// missing flag), each readable and PEM-looking (NOT_FOUND / INVALID_ARGUMENT
// naming the file), a certificate with its own unencrypted key and a CA
// certificate (INVALID_ARGUMENT saying which is wrong). Empty material when
// none is given.
absl::StatusOr<TlsMaterial> LoadNodeTls(const TlsFiles& files);

// What a node's gRPC port serves: plain text without TLS; otherwise TLS
// with `material`'s certificate, and a client certificate is asked for and,
// when one is presented, must be signed by the cluster CA (mutual TLS for
// nodes; clients without a certificate are still served and authenticate
// by token). See HasVerifiedClientCertificate.
std::shared_ptr<grpc::ServerCredentials> NodeServerCredentials(const TlsMaterial& material,
                                                               bool enabled);

// How a node dials another node (central to central, edge to central):
// plain text without TLS; otherwise TLS that verifies the server against
// the cluster CA and presents this node's certificate (mutual TLS).
std::shared_ptr<grpc::ChannelCredentials> NodeChannelCredentials(const TlsMaterial& material,
                                                                 bool enabled);

// `credentials`, or plain text when null (options whose credentials are
// unset).
std::shared_ptr<grpc::ChannelCredentials> PeerCredentials(
    std::shared_ptr<grpc::ChannelCredentials> credentials);

// How a client (kvctl, tests) dials a node: plain text when `ca_file` is
// empty, else TLS verified against that CA's PEM file (NOT_FOUND when it
// cannot be read).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientChannelCredentials(
    const std::string& ca_file);

// Whether the call came with a client certificate the cluster CA signed
// (gRPC verified it during the handshake). Always false in plain text.
bool HasVerifiedClientCertificate(const grpc::ServerContext& context);

// For the methods only nodes call (replication, invalidation streams): when
// the node serves TLS (`required`), the caller must have presented a node
// certificate; UNAUTHENTICATED saying so otherwise. A token alone does not
// make a node.
absl::Status CheckNodeCertificate(bool required, bool presented);

}  // namespace kv

#endif  // KV_COMMON_TLS_H_
