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
  # what RocksDB's and prometheus-cpp's CMake configs pull in
  libgflags-dev libsnappy-dev zlib1g-dev libbz2-dev liblz4-dev libzstd-dev
  libcurl4-openssl-dev libcivetweb-dev
  # benchmarks' same-run baselines (db_bench, redis-server) and kv-bench --plot
  rocksdb-tools redis-server gnuplot-nox
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
