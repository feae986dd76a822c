#!/usr/bin/env bash
# Installs what the build and the tests need (Debian packages), builds
# everything and runs every test: unit, then integration.
# Usage (as root on Debian bookworm): bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then
  bash scripts/install-deps.sh
else
  echo "test.sh: not root, assuming the Debian packages are installed"
fi
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
cd "$BUILD_DIR"
status=0
ctest --output-on-failure -j2 -L unit || status=1
ctest --output-on-failure -L integration || status=1
exit $status
