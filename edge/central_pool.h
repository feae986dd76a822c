#ifndef KV_EDGE_CENTRAL_POOL_H_
#define KV_EDGE_CENTRAL_POOL_H_

#include <grpcpp/security/credentials.h>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/kv.grpc.pb.h"

namespace kv::edge {

// The edge's upstream: an ordered list of centrals with failover. Calls go
// to the preferred central (the one the edge streams from, else the first)
// and move on to the next while a central is unreachable.
// Thread-safe.
class CentralPool {
 public:
  // `addrs` non-empty. Each call gets `rpc_timeout` as its deadline.
  // `credentials`: how the centrals are dialled (mutual TLS,
  // common/tls.h); null: plain text.
  CentralPool(const std::vector<std::string>& addrs, absl::Duration rpc_timeout,
              std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

  size_t size() const { return stubs_.size(); }
  const std::string& addr(size_t i) const { return addrs_[i]; }
  std::shared_ptr<grpc::Channel> channel(size_t i) const { return channels_[i]; }
  size_t preferred() const { return preferred_.load(std::memory_order_relaxed); }
  void SetPreferred(size_t i) { preferred_.store(i, std::memory_order_relaxed); }

  // Calls `fn(stub, context)` on the preferred central, then on the others
  // in order, while the status is UNAVAILABLE or DEADLINE_EXCEEDED (the
  // central is down, paused or cut off). `authorization` (the client's
  // "Bearer ..." header, possibly empty) is passed through.
  // `fn`: grpc::Status(kv::v1::Kv::Stub&, grpc::ClientContext&).
  template <typename Fn>
  grpc::Status Call(absl::string_view authorization, Fn fn) const {
    return CallEach(authorization, [&](size_t i, grpc::ClientContext& context) {
      return fn(*stubs_[i], context);
    });
  }

  // `fn(stub, context)` on central `i` alone.
  template <typename Fn>
  grpc::Status CallOne(size_t i, absl::string_view authorization, Fn fn) const {
    grpc::ClientContext context;
    Prepare(context, authorization);
    return fn(*stubs_[i], context);
  }

  // As Call, for other services: `fn(i, context)` calls central `i`.
  template <typename Fn>
  grpc::Status CallEach(absl::string_view authorization, Fn fn) const {
    grpc::Status status;
    const size_t first = preferred();
    for (size_t attempt = 0; attempt < stubs_.size(); ++attempt) {
      const size_t i = (first + attempt) % stubs_.size();
      grpc::ClientContext context;
      Prepare(context, authorization);
      status = fn(i, context);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
          status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        return status;
      }
    }
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "no central answered: " + status.error_message());
  }

 private:
  void Prepare(grpc::ClientContext& context, absl::string_view authorization) const;

  const std::vector<std::string> addrs_;
  const absl::Duration rpc_timeout_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<kv::v1::Kv::Stub>> stubs_;
  std::atomic<size_t> preferred_{0};
};

// Channel arguments for talking to a node: 128 MiB messages both ways.
grpc::ChannelArguments NodeChannelArguments();

}  // namespace kv::edge

#endif  // KV_EDGE_CENTRAL_POOL_H_
