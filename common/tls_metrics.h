#ifndef KV_COMMON_TLS_METRICS_H_
#define KV_COMMON_TLS_METRICS_H_

// The node's TLS certificates as metrics, so that an expiry is an alert
// before it is an outage (certificates are read at start: renewing one is
// replacing the files and restarting the node).
#include <prometheus/registry.h>

#include "common/tls.h"

namespace kv {

// kv_tls_certificate_expiry_timestamp_seconds{certificate="node"|"ca"}: when
// the node's certificate (--tls_cert) and the cluster CA (--tls_ca) stop
// being valid, in Unix seconds. Nothing without TLS. Call once per registry.
void RegisterTlsCertificateMetrics(prometheus::Registry& registry, const TlsMaterial& material);

}  // namespace kv

#endif  // KV_COMMON_TLS_METRICS_H_
