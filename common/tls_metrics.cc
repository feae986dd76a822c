#include "common/tls_metrics.h"

#include <prometheus/gauge.h>

namespace kv {

void RegisterTlsCertificateMetrics(prometheus::Registry& registry, const TlsMaterial& material) {
  auto& family = prometheus::BuildGauge()
                     .Name("kv_tls_certificate_expiry_timestamp_seconds")
                     .Help("When the node's TLS certificate (certificate=\"node\") and the cluster "
                           "CA (\"ca\") expire, in Unix seconds")
                     .Register(registry);
  if (material.cert_not_after != absl::InfinitePast()) {
    family.Add({{"certificate", "node"}})
        .Set(static_cast<double>(absl::ToUnixSeconds(material.cert_not_after)));
  }
  if (material.ca_not_after != absl::InfinitePast()) {
    family.Add({{"certificate", "ca"}})
        .Set(static_cast<double>(absl::ToUnixSeconds(material.ca_not_after)));
  }
}

}  // namespace kv
