#ifndef KV_EDGE_CQ_STREAM_READER_H_
#define KV_EDGE_CQ_STREAM_READER_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "edge/cq_call.h"

namespace kv::edge {

// Reads a server-streaming call with the shape of grpc::ClientReader
// (blocking Read until false, then Finish) while the call's events are
// collected by the thread that polls `cq`, the edge's server completion
// queue, whose tags are CqCalls. The reading thread sleeps on a mutex, never
// in a gRPC poll.
//
// Why: in gRPC 1.51 (epoll1) every thread blocked in a polling wait, such as
// grpc::ClientReader::Read, takes turns at reading all of the process's
// sockets. The edge's invalidation-stream thread then read client requests
// and handed them to the server's queue thread, a thread switch per request
// (a fifth of the edge's CPU in the cache-hit benchmark; docs/edge.md).
//
// REQUIRES: `cq` is polled (CqCall tags dispatched) for as long as this
// reader exists; so the reader must be finished before the queue is shut
// down. Read, Finish and the destructor on one thread; `context` may be
// cancelled from any thread (TryCancel), which ends a blocked Read.
template <typename Response>
class CqStreamReader {
 public:
  // `prepare(cq)` returns the call prepared (the stub's PrepareAsync...)
  // on `cq`; the constructor starts it and waits until it started.
  template <typename Prepare>
  CqStreamReader(grpc::CompletionQueue* cq, Prepare prepare) : reader_(prepare(cq)) {
    reader_->StartCall(&event_);
    started_ = Wait();
  }
  ~CqStreamReader() = default;  // every op was waited for
  CqStreamReader(const CqStreamReader&) = delete;
  CqStreamReader& operator=(const CqStreamReader&) = delete;

  // The next message; false at the end of the stream (then call Finish).
  bool Read(Response* message) {
    if (!started_ || ended_) return false;
    reader_->Read(message, &event_);
    ended_ = !Wait();
    return !ended_;
  }

  // The call's status. Call once, after Read returned false.
  grpc::Status Finish() {
    grpc::Status status;
    reader_->Finish(&status, &event_);
    Wait();
    return status;
  }

 private:
  // The one op in flight at a time; proceeds on the polling thread.
  class Event final : public CqCall {
   public:
    void Proceed(bool ok) override {
      absl::MutexLock lock(&mu_);
      ok_ = ok;
      done_ = true;
    }
    bool Wait() {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(&done_));
      done_ = false;
      return ok_;
    }

   private:
    absl::Mutex mu_;
    bool done_ ABSL_GUARDED_BY(mu_) = false;
    bool ok_ ABSL_GUARDED_BY(mu_) = false;
  };

  bool Wait() { return event_.Wait(); }

  Event event_;
  std::unique_ptr<grpc::ClientAsyncReaderInterface<Response>> reader_;
  bool started_ = false;
  bool ended_ = false;
};

}  // namespace kv::edge

#endif  // KV_EDGE_CQ_STREAM_READER_H_
