#ifndef KV_COMMON_HTTP_REST_HANDLER_H_
#define KV_COMMON_HTTP_REST_HANDLER_H_

#include <cstdint>

#include "common/http/http_server.h"
#include "common/http/kv_api.h"
#include "common/limits.h"
#include "common/request_metrics.h"

namespace kv::http {

// Cloudflare's API v4 KV endpoints (shared/reference/rest-api-v4.md) under
// /client/v4/accounts/{account_id}/storage/kv/namespaces, translated to the
// client API (KvApi): namespaces (list with pages, create, get, rename,
// delete), keys list, values get/put (raw or multipart)/delete, metadata,
// bulk write, bulk delete (both forms), bulk get. Every response but a
// value read is Cloudflare's JSON envelope; errors pair `success:false`
// with a 4xx (client mistakes) or 5xx (our side, retryable) status. A
// request is fully parsed and validated before the API is called, so a
// rejected request changes nothing.
// Thread-safe; the API and limits must outlive the handler.
class RestHandler final : public HttpHandler {
 public:
  // `metrics` (optional) records every request the handler answers by the
  // operation it maps to (kv_requests_total, kv_request_duration_seconds).
  RestHandler(KvApi& api, const Limits& limits, RequestMetrics* metrics = nullptr)
      : api_(api), limits_(limits), metrics_(metrics) {}

  // Value writes: the value limit plus 64 KiB of multipart envelope and
  // metadata; bulk writes and deletes: the bulk request limit; anything
  // else: 1 MiB.
  uint64_t BodyLimit(const HttpRequest& head) const override;
  // A value read the cache can answer.
  bool TryHandleInline(const HttpRequest& request, HttpResponse* response) override;
  void Handle(const HttpRequest& request, HttpResponse* response) override;
  void RenderError(int status, absl::string_view message, HttpResponse* response) const override;

 private:
  void Record(absl::string_view op, const absl::Status& status, absl::Time start);

  KvApi& api_;
  const Limits limits_;
  RequestMetrics* const metrics_;
};

}  // namespace kv::http

#endif  // KV_COMMON_HTTP_REST_HANDLER_H_
