#ifndef KV_COMMON_HTTP_WORKERD_HANDLER_H_
#define KV_COMMON_HTTP_WORKERD_HANDLER_H_

#include <cstdint>

#include "common/http/http_server.h"
#include "common/http/kv_api.h"
#include "common/limits.h"
#include "common/request_metrics.h"

namespace kv::http {

// The HTTP protocol of workerd's KV binding (shared/reference/
// workerd-kv-protocol.md), served by edges: `GET|PUT|DELETE /<key>`,
// `GET /?prefix=&key_count_limit=&cursor=` (list), `POST /bulk/get`. The
// namespace comes from the `X-KV-Namespace-Id` header and the token from
// `Authorization`, both injected by the Worker's config. Reads report
// where they were served from in `CF-Cache-Status` (HIT, MISS,
// REVALIDATED); metadata travels in `CF-KV-Metadata`. Errors put their
// precise message in the reason phrase, which the Worker shows. Nothing is
// changed by a rejected request.
// Thread-safe; the API and limits must outlive the handler.
class WorkerdHandler final : public HttpHandler {
 public:
  // `metrics` (optional) records every request the handler answers by the
  // operation it maps to (kv_requests_total, kv_request_duration_seconds).
  WorkerdHandler(KvApi& api, const Limits& limits, RequestMetrics* metrics = nullptr)
      : api_(api), limits_(limits), metrics_(metrics) {}

  // PUT: the value limit (the body is the value); otherwise 1 MiB.
  uint64_t BodyLimit(const HttpRequest& head) const override;
  // A single-key read the cache can answer.
  bool TryHandleInline(const HttpRequest& request, HttpResponse* response) override;
  void Handle(const HttpRequest& request, HttpResponse* response) override;
  // miniflare's wording for a put: "Value length of N exceeds limit of M."
  std::string BodyTooLargeMessage(const HttpRequest& head, std::optional<uint64_t> declared,
                                  uint64_t limit) const override;
  void RenderError(int status, absl::string_view message, HttpResponse* response) const override;

 private:
  void Record(absl::string_view op, const absl::Status& status, absl::Time start);

  KvApi& api_;
  const Limits limits_;
  RequestMetrics* const metrics_;
};

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_WORKERD_HANDLER_H_
