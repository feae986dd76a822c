#ifndef KV_EDGE_CQ_CALL_H_
#define KV_EDGE_CQ_CALL_H_

#include "common/completion_tag.h"

namespace kv::edge {

// What every tag on the edge's server completion queue points to (the one
// polling thread, AsyncKvServer, calls Proceed with the event's `ok`): the
// kv.v1.Kv calls, the health service and CqStreamReader share one queue.
using CqCall = ::kv::CompletionTag;

}  // namespace kv::edge

#endif  // KV_EDGE_CQ_CALL_H_
