#!/usr/bin/env bash
# Configures and builds the project into $BUILD_DIR (default: build/), with
# ccache. Extra arguments are passed to ninja (e.g. a target name).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Paths relative to the checkout's parent, and no cwd in the hash: clones and
# worktrees side by side share cached objects.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$PWD")}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
    ${CMAKE_ARGS:-}
fi
ninja -C "$BUILD_DIR" -j "$JOBS" "$@"
