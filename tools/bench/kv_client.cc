#include "tools/bench/kv_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/tls.h"

namespace kv::bench {

namespace {

// Set once by UseTls (main, before any channel), read after.
std::shared_ptr<grpc::ChannelCredentials>& Credentials() {
  static auto* credentials =
      new std::shared_ptr<grpc::ChannelCredentials>(grpc::InsecureChannelCredentials());
  return *credentials;
}

}  // namespace

absl::Status UseTls(const std::string& ca_file) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ClientChannelCredentials(ca_file);
  if (!credentials.ok()) return credentials.status();
  Credentials() = *std::move(credentials);
  return absl::OkStatus();
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& addr,
                                          const grpc::ChannelArguments& args) {
  return grpc::CreateCustomChannel(addr, Credentials(), args);
}

std::unique_ptr<kv::v1::Kv::Stub> NewStub(const std::string& addr) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(128 << 20);
  args.SetMaxSendMessageSize(128 << 20);
  return kv::v1::Kv::NewStub(NewChannel(addr, args));
}

void AddAuth(grpc::ClientContext& ctx, const std::string& token) {
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
}

std::string MakeKey(int i, int key_size) { return absl::StrFormat("%0*d", key_size, i); }

std::vector<std::string> MakeKeys(int n, int key_size) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) keys.push_back(MakeKey(i, key_size));
  return keys;
}

std::string MakeValue(int i, int rev, int size) {
  std::string v(static_cast<size_t>(size), 'a');
  uint64_t x = static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(rev) + 1;
  for (char& c : v) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c = static_cast<char>('a' + (x * 2685821657736338717ULL) % 26);
  }
  return v;
}

absl::Status FromGrpc(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat(what, ": ", s.error_message()));
}

absl::StatusOr<std::string> CreateNamespace(kv::v1::Kv::Stub& stub, const std::string& token) {
  kv::v1::CreateNamespaceRequest req;
  req.set_title(absl::StrCat("kv-bench-", absl::ToUnixNanos(absl::Now())));
  kv::v1::Namespace ns;
  grpc::ClientContext ctx;
  AddAuth(ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Status s = stub.CreateNamespace(&ctx, req, &ns);
  if (!s.ok()) return FromGrpc(s, "cannot create a namespace");
  return ns.id();
}

absl::Status DeleteNamespace(kv::v1::Kv::Stub& stub, const std::string& ns,
                             const std::string& token) {
  kv::v1::DeleteNamespaceRequest req;
  req.set_namespace_id(ns);
  kv::v1::DeleteNamespaceResponse resp;
  grpc::ClientContext ctx;
  AddAuth(ctx, token);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return FromGrpc(stub.DeleteNamespace(&ctx, req, &resp), "cannot delete the namespace");
}

absl::Status LoadKeys(kv::v1::Kv::Stub& stub, const std::string& ns,
                      const std::vector<std::string>& keys, int value_size,
                      const std::string& token) {
  constexpr size_t kBatch = 1000;
  for (size_t first = 0; first < keys.size(); first += kBatch) {
    kv::v1::BulkPutRequest req;
    req.set_namespace_id(ns);
    for (size_t i = first; i < std::min(keys.size(), first + kBatch); ++i) {
      kv::v1::BulkPutEntry* e = req.add_entries();
      e->set_key(keys[i]);
      e->set_value(MakeValue(static_cast<int>(i), 0, value_size));
    }
    kv::v1::BulkPutResponse resp;
    grpc::ClientContext ctx;
    AddAuth(ctx, token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    grpc::Status s = stub.BulkPut(&ctx, req, &resp);
    if (!s.ok()) return FromGrpc(s, "BulkPut while loading keys");
    if (resp.unsuccessful_keys_size() > 0) {
      return absl::InternalError(
          absl::StrCat("BulkPut: ", resp.unsuccessful_keys_size(), " keys not written"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadAllOnce(kv::v1::Kv::Stub& stub, const std::string& ns,
                         const std::vector<std::string>& keys, const std::string& token,
                         int* hits) {
  constexpr size_t kBatch = 100;
  for (size_t first = 0; first < keys.size(); first += kBatch) {
    kv::v1::GetRequest req;
    req.set_namespace_id(ns);
    for (size_t i = first; i < std::min(keys.size(), first + kBatch); ++i) req.add_keys(keys[i]);
    kv::v1::GetResponse resp;
    grpc::ClientContext ctx;
    AddAuth(ctx, token);
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status s = stub.Get(&ctx, req, &resp);
    if (!s.ok()) return FromGrpc(s, "Get while reading the keys once");
    for (const kv::v1::Entry& e : resp.entries()) {
      if (!e.found()) return absl::NotFoundError(absl::StrCat("key ", e.key(), " not found"));
    }
    if (hits != nullptr && resp.cache_status() == "HIT") ++*hits;
  }
  return absl::OkStatus();
}

}  // namespace kv::bench
