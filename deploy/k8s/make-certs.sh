#!/bin/sh
# Makes the kv-tls Secret's files for these manifests (config/tls/, read by
# kustomization.yaml's secretGenerator; not in git): a private CA and one
# node certificate (deploy/tls/make-certs.sh) for the names the nodes are
# dialled by in namespace workers-kv:
#   kv-central-N.kv-central   the centrals (--peers, the edges' --centrals)
#   kv-edge, kv-edge.workers-kv.svc[.cluster.local]   the edges' Service
#   127.0.0.1, localhost      the probes (kv-healthcheck)
#   kv-node                   what Prometheus verifies every node by
# With more than 3 centrals, or another namespace, edit the list and empty
# DIR first: it keeps existing files (run once per cluster).
#   sh deploy/k8s/make-certs.sh [DIR (default: deploy/k8s/config/tls)]
set -eu
here=$(dirname "$0")
exec sh "$here/../tls/make-certs.sh" "${1:-$here/config/tls}" kv-node \
  kv-central-0.kv-central kv-central-1.kv-central kv-central-2.kv-central \
  kv-edge kv-edge.workers-kv.svc kv-edge.workers-kv.svc.cluster.local \
  localhost 127.0.0.1
