#ifndef KV_TOOLS_FAULTPROXY_CONTROL_API_H_
#define KV_TOOLS_FAULTPROXY_CONTROL_API_H_

// kv-faultproxy's control API: HTTP requests -> LinkSet operations, JSON in
// and out (docs/faultproxy.md lists the routes).

#include "tools/faultproxy/http_server.h"
#include "tools/faultproxy/link_set.h"

namespace kv::faultproxy {

// Answers one control request. Never throws: a malformed body, an unknown
// route, link or field gives a 4xx with {"error": "..."} saying what is
// wrong. Thread-safe as LinkSet is.
HttpResponse HandleControlRequest(LinkSet& links, const HttpRequest& request);

}  // namespace kv::faultproxy

#endif  // KV_TOOLS_FAULTPROXY_CONTROL_API_H_
