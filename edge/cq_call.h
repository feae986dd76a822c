#ifndef KV_EDGE_CQ_CALL_H_
#define KV_EDGE_CQ_CALL_H_

namespace kv::edge {

// What every tag on the edge's server completion queue points to: the one
// polling thread (AsyncKvServer) calls Proceed with the event's `ok`, and the
// object decides what comes next (it may delete itself). Shared by the
// kv.v1.Kv calls and the health service so both live on one queue.
class CqCall {
 public:
  virtual ~CqCall() = default;
  virtual void Proceed(bool ok) = 0;
};

}  // namespace kv::edge

#endif  // KV_EDGE_CQ_CALL_H_
