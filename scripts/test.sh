#!/usr/bin/env bash
# Installs what the build and the tests need (Debian packages), builds
# everything and runs every test: unit, integration, then compat (the real
# cloudflare SDK, wrangler and workerd, installed from npm at pinned
# versions into build/npm by tests/compat/setup.sh; skipped without Node
# unless KV_REQUIRE_CLIENTS=1, as in CI).
# Usage (as root on Debian bookworm): bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  bash scripts/install-deps.sh
else
  echo "test.sh: not root, assuming the Debian packages are installed"
fi
bash scripts/build.sh

# The edge's concurrency tests (fetches, invalidations and writes racing on
# the same entries), common's parsers and the HTTP front ends' parsers and
# translation, under ASan + UBSan.
status=0
if [ "${KV_SKIP_SANITIZERS:-0}" != 1 ]; then
  BUILD_DIR=build-asan CMAKE_ARGS="-DKV_SANITIZE=ON" bash scripts/build.sh \
    kv_edge_test kv_common_test kv_http_test
  echo "== ASan+UBSan: kv_edge_test, kv_common_test, kv_http_test =="
  ./build-asan/tests/unit/edge/kv_edge_test --gtest_brief=1 || status=1
  ./build-asan/tests/unit/common/kv_common_test --gtest_brief=1 || status=1
  ./build-asan/tests/unit/http/kv_http_test --gtest_brief=1 || status=1
fi

BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure -j2 -L unit || status=1
ctest --output-on-failure -L integration || status=1
ctest --output-on-failure -L compat || status=1
exit $status
