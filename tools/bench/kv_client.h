#ifndef KV_TOOLS_BENCH_KV_CLIENT_H_
#define KV_TOOLS_BENCH_KV_CLIENT_H_

// Setup steps over the kv.v1 client API: namespaces, bulk loading keys,
// reading them once (to fill an edge's cache).
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/kv.grpc.pb.h"

namespace kv::bench {

// Every channel kv-bench opens to a node: plain text, or TLS verified
// against the CA file given once to UseTls (--tls_ca, for a node that serves
// TLS). `args` may make it a connection of its own.
std::shared_ptr<grpc::Channel> NewChannel(const std::string& addr,
                                          const grpc::ChannelArguments& args);
// From now on, NewChannel dials TLS verified against `ca_file` (PEM);
// NOT_FOUND when it cannot be read. Call before any channel is made.
absl::Status UseTls(const std::string& ca_file);

std::unique_ptr<kv::v1::Kv::Stub> NewStub(const std::string& addr);
// Adds "authorization: Bearer <token>" unless `token` is empty.
void AddAuth(grpc::ClientContext& ctx, const std::string& token);

// Key i as a zero-padded decimal of exactly `key_size` bytes (>= 8).
std::string MakeKey(int i, int key_size);
// `n` keys 0..n-1.
std::vector<std::string> MakeKeys(int n, int key_size);
// A deterministic value of `size` bytes for key i and revision `rev`.
std::string MakeValue(int i, int rev, int size);

absl::StatusOr<std::string> CreateNamespace(kv::v1::Kv::Stub& stub, const std::string& token);
absl::Status DeleteNamespace(kv::v1::Kv::Stub& stub, const std::string& ns,
                             const std::string& token);
// Writes every key (BulkPut, 1,000 per call) with MakeValue(i, 0, value_size).
absl::Status LoadKeys(kv::v1::Kv::Stub& stub, const std::string& ns,
                      const std::vector<std::string>& keys, int value_size,
                      const std::string& token);
// Reads every key once (Get, 100 per call); all must be found. Counts the
// calls answered "HIT" in *hits (may be null).
absl::Status ReadAllOnce(kv::v1::Kv::Stub& stub, const std::string& ns,
                         const std::vector<std::string>& keys, const std::string& token,
                         int* hits = nullptr);

absl::Status FromGrpc(const grpc::Status& s, const std::string& what);

}  // namespace kv::bench

#endif  // KV_TOOLS_BENCH_KV_CLIENT_H_
