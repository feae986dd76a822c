#ifndef KV_CENTRAL_INVALIDATION_SERVICE_H_
#define KV_CENTRAL_INVALIDATION_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "central/storage.h"
#include "central/stream_hub.h"
#include "common/auth.h"
#include "common/thread_pool.h"
#include "proto/invalidation.grpc.pb.h"

namespace kv::central {

// kv.v1.Invalidation: the central → edge invalidation streams (DESIGN §4.3),
// served on the central's completion queue (its tags CompletionTags, polled
// by AsyncKvServer's threads). A callback service would make gRPC start
// "nexting" threads that take turns with the queue's threads at polling
// every connection, client puts included (docs/write-path.md).
//
// Both calls are authenticated from the `authorization` metadata and need an
// edge token (or dev mode). Each Subscribe is a StreamWriter that the
// StreamHub feeds; its queue events never block and never read the log.
// Revalidate answers the current versions of up to 1000 keys from `storage`
// (subject to its read gate) on a small pool of its own, so an edge can keep
// what is still current; the queue's threads never wait on the disk.
//
// Use: register service() with the ServerBuilder, Start(cq) after
// BuildAndStart. Shutdown(): after the server's Shutdown and before the
// queue's (whose threads must still run): waits until every matched call
// has ended and every Revalidate has been answered, so that nothing starts
// an operation on the queue once it shuts down. Thread-safe. `hub`,
// `storage` and `auth` must outlive this object.
class InvalidationService {
 public:
  // Most keys per Revalidate call.
  static constexpr int kMaxRevalidateKeys = 1000;

  // `require_node_certificate`: this node serves TLS, so edges must come
  // with a node certificate (mutual TLS) besides their edge token.
  InvalidationService(StreamHub& hub, Storage& storage, const TokenAuthenticator& auth,
                      bool require_node_certificate = false);
  ~InvalidationService();
  InvalidationService(const InvalidationService&) = delete;
  InvalidationService& operator=(const InvalidationService&) = delete;

  kv::v1::Invalidation::AsyncService* service() { return &service_; }
  // Accepts calls on `cq`, which must be polled until Shutdown returns.
  void Start(grpc::ServerCompletionQueue* cq);
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class SubscribeCall;

  // `node_certificate`: the caller presented one (mutual TLS).
  absl::Status AuthorizeEdgeCall(absl::string_view authorization, bool node_certificate) const;
  absl::Status RevalidateKeys(const kv::v1::RevalidateRequest& request,
                              kv::v1::RevalidateResponse& response);
  void BeginCall() ABSL_LOCKS_EXCLUDED(mu_);
  void EndCall() ABSL_LOCKS_EXCLUDED(mu_);

  StreamHub& hub_;
  Storage& storage_;
  const TokenAuthenticator& auth_;
  const bool require_node_certificate_;
  kv::v1::Invalidation::AsyncService service_;
  grpc::ServerCompletionQueue* cq_ = nullptr;
  std::unique_ptr<ThreadPool> readers_;

  // Guards every SubscribeCall's state too (there are few streams).
  absl::Mutex mu_;
  // Matched calls not yet ended (Subscribe) or answered (Revalidate).
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ = false;
};

}  // namespace kv::central

#endif  // KV_CENTRAL_INVALIDATION_SERVICE_H_
