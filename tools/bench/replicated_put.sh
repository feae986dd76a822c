#!/usr/bin/env bash
# Replicated put throughput (issue 5): kv-bench's put workload at one central
# of a 3-central cluster (write quorum 2, every write WAL-synced on 2 of 3)
# against a single central without peers, in the same run, same machine.
#   bash tools/bench/replicated_put.sh [concurrency (16)] [duration (10s)]
# Every node binds 127.0.0.1 port 0; the peers file is written once all
# ports are known.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
C=${1:-16}
DUR=${2:-10s}
CENTRAL=$BUILD_DIR/central/kv-central
BENCH=$BUILD_DIR/tools/bench/kv-bench
D=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT

start() {  # id extra-flags...
  local id=$1; shift
  "$CENTRAL" --dev --node_id="$id" --data_dir="$D/data-$id-$#" --grpc_addr=127.0.0.1:0 \
    --ready_file="$D/ready-$id" "$@" >"$D/log-$id" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do [ -f "$D/ready-$id" ] && return 0; sleep 0.1; done
  echo "central $id did not start"; tail "$D/log-$id"; exit 1
}
port() { sed -n 's/^grpc_port=//p' "$D/ready-$1"; }

echo "== single central, $C writers"
start 9
"$BENCH" --workload=put --addr="127.0.0.1:$(port 9)" --concurrency="$C" --duration="$DUR" 2>&1 | tail -1
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true; PIDS=()

echo "== 3 centrals (write quorum 2), $C writers at central 1"
for i in 1 2 3; do rm -f "$D/ready-$i"; start "$i" --peers_file="$D/peers" --metrics_addr=127.0.0.1:0; done
for i in 1 2 3; do echo "$i 127.0.0.1:$(port "$i")"; done >"$D/peers.tmp"
mv "$D/peers.tmp" "$D/peers"
# Wait until central 1 replicates from both peers and they from it.
for _ in $(seq 1 300); do
  connected=0
  for i in 1 2 3; do
    m=$(sed -n 's/^metrics_port=//p' "$D/ready-$i")
    n=$(curl -s "127.0.0.1:$m/metrics" | grep -c '^kv_replication_connected{.*} 1' || true)
    connected=$((connected + n))
  done
  [ "$connected" = 6 ] && break
  sleep 0.1
done
[ "$connected" = 6 ] || { echo "replication did not connect"; exit 1; }
"$BENCH" --workload=put --addr="127.0.0.1:$(port 1)" --concurrency="$C" --duration="$DUR" 2>&1 | tail -1
