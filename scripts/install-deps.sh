#!/usr/bin/env bash
# Installs exactly the Debian bookworm packages the build and the tests need.
# Idempotent: re-running it installs nothing new. Must run as root.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git
  # the libraries the design names
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libabsl-dev prometheus-cpp-dev libgtest-dev libgmock-dev
  libgoogle-glog-dev nlohmann-json3-dev
  # the HTTP server (Boost.Beast, header-only; docs/http.md) and its HTTPS
  libboost-dev libssl-dev
  # what RocksDB's and prometheus-cpp's CMake configs pull in
  libgflags-dev libsnappy-dev zlib1g-dev libbz2-dev liblz4-dev libzstd-dev
  libcurl4-openssl-dev libcivetweb-dev
  # benchmarks' same-run baselines (db_bench, redis-server), load generators
  # and kv-bench --plot
  rocksdb-tools redis-server redis-tools wrk gnuplot-nox
  # deploy/ checks (tests/deploy): promtool and a real Prometheus, compose
  # validation, YAML parsing, the health check's curl
  prometheus docker-compose python3-yaml curl
  # test certificates for the TLS tests (tests/integration/tls_itest.cc)
  openssl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Kubernetes manifests' offline schema check (tests/deploy) uses the npm
# package kubernetes-models, pinned by its package-lock.json. Skipped in the
# Docker build (KV_DEPS_DEBIAN_ONLY=1), which runs no tests.
if [ "${KV_DEPS_DEBIAN_ONLY:-0}" != 1 ]; then
  if ! command -v npm >/dev/null; then
    apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  schema_dir="$(dirname "$0")/../tests/deploy/k8s_schema"
  if [ ! -d "$schema_dir/node_modules/kubernetes-models" ]; then
    echo "install-deps: npm ci in tests/deploy/k8s_schema"
    npm ci --prefix "$schema_dir" --no-audit --no-fund --loglevel=error
  fi
fi
