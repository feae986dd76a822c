#!/bin/bash
# kv-healthcheck: the container health check of a kv-central or kv-edge.
# Healthy when the node's /metrics answers (200, or 401 from a node with a
# tokens file, whose scrapes need a metrics token: its HTTP listener is up)
# and its gRPC port answers the standard health service with SERVING
# (`kvctl health`: a node that is shutting down is NOT_SERVING).
# grpc_health_probe is not packaged in Debian, hence kvctl.
# The Kubernetes manifests use it as their exec probe: the kubelet's own
# gRPC probe speaks plain text only.
#
# Environment: KV_HEALTH_HOST (default 127.0.0.1), KV_HEALTH_GRPC_PORT
# (default 7100), KV_HEALTH_METRICS_PORT (default 9100),
# KV_HEALTH_TIMEOUT seconds (default 2), KV_HEALTH_TLS_CA (the node runs
# with --tls_*: /metrics is HTTPS and gRPC is TLS, both verified against
# this CA file, whose node certificate must name KV_HEALTH_HOST; default
# none, plain text), KV_HEALTH_KVCTL (default kvctl). Exit 0 healthy, 1 not
# (with why).
set -u
host=${KV_HEALTH_HOST:-127.0.0.1}
grpc_port=${KV_HEALTH_GRPC_PORT:-7100}
metrics_port=${KV_HEALTH_METRICS_PORT:-9100}
timeout=${KV_HEALTH_TIMEOUT:-2}

tls_ca=${KV_HEALTH_TLS_CA:-}
if [ -n "$tls_ca" ]; then
  url="https://$host:$metrics_port/metrics"
  curl_tls=(--cacert "$tls_ca")
else
  url="http://$host:$metrics_port/metrics"
  curl_tls=()
fi
code=$(curl -sS --max-time "$timeout" -o /dev/null -w '%{http_code}' "${curl_tls[@]}" "$url")
if [ "$code" != 200 ] && [ "$code" != 401 ]; then
  echo "kv-healthcheck: /metrics on $host:$metrics_port does not answer (HTTP ${code:-000})" >&2
  exit 1
fi
grpc_tls=()
[ -n "$tls_ca" ] && grpc_tls=(--tls_ca "$tls_ca")
# KV_TLS_CA is set to the check's own CA (empty: plain text), so a
# KV_TLS_CA in the container's environment cannot make the two parts differ.
if ! why=$(KVCTL_CONFIG=/dev/null KV_TLS_CA="$tls_ca" "${KV_HEALTH_KVCTL:-kvctl}" --addr "$host:$grpc_port" \
             "${grpc_tls[@]}" --timeout "${timeout}s" health 2>&1 >/dev/null); then
  echo "kv-healthcheck: gRPC health of $host:$grpc_port: ${why:-kvctl failed}" >&2
  exit 1
fi
exit 0
