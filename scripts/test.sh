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
# the same entries), the central's storage, commit queue, quorum tracker and
# streams, common's parsers and the HTTP front ends' parsers and
# translation, and the fuzz targets' corpora (tests/fuzz), under ASan +
# UBSan.
status=0
if [ "${KV_SKIP_SANITIZERS:-0}" != 1 ]; then
  fuzz_replays="rest_handler_fuzz_replay workerd_handler_fuzz_replay multipart_fuzz_replay
    url_codec_fuzz_replay record_codec_fuzz_replay validation_fuzz_replay
    request_validation_fuzz_replay kvctl_files_fuzz_replay storage_model_fuzz_replay
    lru_cache_model_fuzz_replay"
  BUILD_DIR=build-asan CMAKE_ARGS="-DKV_SANITIZE=ON" bash scripts/build.sh \
    kv_edge_test kv_central_test kv_common_test kv_http_test $fuzz_replays
  echo "== ASan+UBSan: kv_edge_test, kv_central_test, kv_common_test, kv_http_test, fuzz corpora =="
  ./build-asan/tests/unit/edge/kv_edge_test --gtest_brief=1 || status=1
  ./build-asan/tests/unit/central/kv_central_test --gtest_brief=1 || status=1
  ./build-asan/tests/unit/common/kv_common_test --gtest_brief=1 || status=1
  ./build-asan/tests/unit/http/kv_http_test --gtest_brief=1 || status=1
  (cd build-asan && ctest --output-on-failure -R '_fuzz_corpus$') || status=1
fi

BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
ctest --output-on-failure -j2 -L unit || status=1
ctest --output-on-failure -L integration || status=1
ctest --output-on-failure -L compat || status=1
cd - >/dev/null

# The README's first command, as a user runs it (detached, in a temp dir):
# the cluster comes up, the demo round-trips a value through an edge, and it
# stops cleanly.
echo "== README command 1: scripts/dev-cluster.sh =="
dev_dir=$(mktemp -d)
if DATA_DIR="$dev_dir" BUILD_DIR="$BUILD_DIR" bash scripts/dev-cluster.sh --detach >"$dev_dir.out" 2>&1 &&
   grep -q '^hello, world$' "$dev_dir.out"; then
  dev_pid=$(sed -n 's/.*(kvctl dev PID \([0-9]*\)).*/\1/p' "$dev_dir.out")
  kill -TERM "$dev_pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$dev_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$dev_pid" 2>/dev/null; then
    echo "dev-cluster.sh: kvctl dev did not stop"; kill -KILL "$dev_pid"; status=1
  else
    echo "dev-cluster.sh: cluster up, value read back through an edge, stopped"
  fi
else
  echo "dev-cluster.sh failed:"; cat "$dev_dir.out"; status=1
  pkill -TERM -f "kvctl dev --data_dir $dev_dir" || true
fi
rm -rf "$dev_dir" "$dev_dir.out"
exit $status
