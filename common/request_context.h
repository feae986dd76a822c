#ifndef KV_COMMON_REQUEST_CONTEXT_H_
#define KV_COMMON_REQUEST_CONTEXT_H_

#include <string>

#include "absl/time/time.h"

namespace kv {

// What a client API handler needs to know about a call, whatever transport
// carried it (gRPC, REST, the workerd protocol): the caller's credentials
// and how long it waits. Built once per call by the transport
// (RequestContextOf for gRPC; the HTTP front ends from their headers), so
// the handler logic of KvService and EdgeKvService is transport-neutral.
struct RequestContext {
  // The "Authorization" header value, e.g. "Bearer <token>"; empty when the
  // caller sent none. Passed through unchanged when an edge forwards.
  std::string authorization;
  // When the caller stops waiting. Default: never.
  absl::Time deadline = absl::InfiniteFuture();
};

}  // namespace kv

#endif  // KV_COMMON_REQUEST_CONTEXT_H_
