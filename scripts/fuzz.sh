#!/usr/bin/env bash
# Fuzzes the parsers with libFuzzer (STYLE §5; tests/fuzz/README.md):
# builds build-fuzz/ with clang (-DKV_FUZZ=ON: the project instrumented,
# ASan + UBSan), then runs each target for FUZZ_SECONDS (default 60) from a
# working copy of its checked-in corpus. New coverage goes to
# build-fuzz/corpus/<name>/; a failing input is saved as
# build-fuzz/crashes/<name>/crash-* and the script exits non-zero.
# Usage (as root installs clang and the libFuzzer runtime if missing):
#   bash scripts/fuzz.sh [name...]   (default: every target)
# Names: rest_handler workerd_handler multipart url_codec record_codec validation
#   request_validation kvctl_files storage_model lru_cache_model
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang libclang-rt-14-dev >/dev/null
  else
    echo "fuzz.sh: needs clang and libclang-rt-14-dev (run as root to install them)"; exit 1
  fi
fi
ALL="rest_handler workerd_handler multipart url_codec record_codec validation request_validation
  kvctl_files storage_model lru_cache_model"
TARGETS=${*:-$ALL}
for t in $TARGETS; do
  case " $(echo $ALL) " in
    *" $t "*) ;;
    *) echo "fuzz.sh: unknown target '$t'; targets:" $ALL; exit 2 ;;
  esac
done
SECONDS_EACH=${FUZZ_SECONDS:-60}
# libFuzzer reads a malformed -max_total_time as 0: no time limit at all.
if ! [[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: FUZZ_SECONDS must be a positive number of seconds, got '$SECONDS_EACH'"; exit 2
fi
BUILD_DIR=build-fuzz
BUILD_DIR=$BUILD_DIR CMAKE_ARGS="-DKV_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++" \
  bash scripts/build.sh $(for t in $TARGETS; do echo "${t}_fuzz"; done)
status=0
for t in $TARGETS; do
  work="$BUILD_DIR/corpus/$t"
  crashes="$BUILD_DIR/crashes/$t"
  mkdir -p "$work" "$crashes"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  echo "== $t: ${SECONDS_EACH}s =="
  if ! "$BUILD_DIR/tests/fuzz/${t}_fuzz" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
      -artifact_prefix="$crashes/" "$work" 2>"$BUILD_DIR/$t.log"; then
    echo "$t: failed, see $BUILD_DIR/$t.log and $crashes/"; status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|cov:" "$BUILD_DIR/$t.log" | tail -3 || true
done
exit $status
