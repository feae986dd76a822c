#!/usr/bin/env bash
# The floor of replicated put on this machine (issue 5): kv-bench's put
# workload, 16 writers by default, against kv-put-floor (tools/bench/put_floor.cc),
# a server that does only what the write contract needs: a gRPC Put, a group
# append + fdatasync, and with peers one Pull message to the quorum peer, its
# append + fdatasync and an ack (the follower gets the entries every 5 ms).
# Three setups, measured in turns in the same minutes (the one being
# measured runs, the others are SIGSTOPped):
#   single      one floor server;
#   replicated  a source, its quorum peer and a follower (3 nodes, write
#               quorum 2), the source syncing before it sends (the
#               product's order: docs/replication.md);
#   overlapped  the same with the send before the source's sync (the Raft
#               leader's overlap).
#   bash tools/bench/replication_floor.sh [concurrency (16)] [duration (10s)]
# ROUNDS=N (default 3) rounds; prints each round's rates, CPU per write and
# the two ratios to single, then the medians. Run tools/bench/replicated_put.sh
# right after it to set kv-central's ratio beside the floor's.
# GRPC_POLL_STRATEGY defaults to poll, as kv-central's --grpc_poll_strategy.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
C=${1:-16}
DUR=${2:-10s}
ROUNDS=${ROUNDS:-3}
FLOOR=$BUILD_DIR/tools/bench/kv-put-floor
BENCH=$BUILD_DIR/tools/bench/kv-bench
export GRPC_POLL_STRATEGY=${GRPC_POLL_STRATEGY:-poll}
D=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
            wait 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT

start() {  # name flags...
  local name=$1; shift
  "$FLOOR" --data_dir="$D/$name" --ready_file="$D/ready-$name" "$@" >"$D/log-$name" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 300); do [ -f "$D/ready-$name" ] && return 0; sleep 0.1; done
  echo "kv-put-floor $name did not start"; cat "$D/log-$name"; exit 1
}
port() { sed -n 's/^grpc_port=//p' "$D/ready-$1"; }
pid_of() { sed -n 's/^pid=//p' "$D/ready-$1"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
cpu() { local t=0; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
        echo "$t / $(getconf CLK_TCK)" | bc -l; }
rate() { awk '{ for (i = 1; i < NF; ++i) if ($(i + 1) == "ops/s") print $i }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

start single
start replicated --quorum_peer
start replicated-peer --replica_of="127.0.0.1:$(port replicated)" --node_id=2
start replicated-follower --replica_of="127.0.0.1:$(port replicated)" --node_id=3
start overlapped --quorum_peer --send_before_sync
start overlapped-peer --replica_of="127.0.0.1:$(port overlapped)" --node_id=2
start overlapped-follower --replica_of="127.0.0.1:$(port overlapped)" --node_id=3
declare -A GROUP=([single]="$(pid_of single)"
                  [replicated]="$(pid_of replicated) $(pid_of replicated-peer) $(pid_of replicated-follower)"
                  [overlapped]="$(pid_of overlapped) $(pid_of overlapped-peer) $(pid_of overlapped-follower)")
ALL="${GROUP[single]} ${GROUP[replicated]} ${GROUP[overlapped]}"
declare -A RATE
R_REPL=(); R_OVER=()

phase() {  # setup round
  local setup=$1 pids=${GROUP[$1]} out c0 w p split=""
  local -A each
  # shellcheck disable=SC2086
  kill -STOP $ALL; kill -CONT $pids
  c0=$(cpu $pids)
  for p in $pids; do each[$p]=$(cpu "$p"); done
  out=$("$BENCH" --workload=put --addr="127.0.0.1:$(port "$setup")" --server_pid="${pids%% *}" \
        --concurrency="$C" --duration="$DUR" ${BENCH_FLAGS:-} 2>&1 | tail -1)
  if ! echo "$out" | grep -q ' errors 0 '; then echo "kv-bench against $setup failed: $out"; exit 1; fi
  RATE[$setup]=$(echo "$out" | rate)
  if ! awk -v r="${RATE[$setup]:-0}" 'BEGIN { exit !(r > 0) }'; then
    echo "kv-bench against $setup: no put answered: $out"; exit 1
  fi
  w=$(echo "${RATE[$setup]} * ${DUR%s}" | bc -l)
  printf '  %-10s %8.0f puts/s, %4.0f us at the client, %3.0f us of server CPU per put (load average %s)\n' \
    "$setup" "${RATE[$setup]}" "$(echo "$C * 1000000 / ${RATE[$setup]}" | bc -l)" \
    "$(echo "($(cpu $pids) - $c0) * 1000000 / $w" | bc -l)" "$(loadavg)"
  if [ "$setup" != single ]; then
    for p in $pids; do split+=$(printf ' %.0f' "$(echo "($(cpu "$p") - ${each[$p]}) * 1000000 / $w" | bc -l)"); done
    echo "             of which source, quorum peer, follower:$split us"
  fi
}

for r in $(seq 1 "$ROUNDS"); do
  echo "== round $r: $C writers"
  for setup in single replicated overlapped; do phase "$setup" "$r"; done
  R_REPL+=("$(echo "${RATE[replicated]} / ${RATE[single]}" | bc -l)")
  R_OVER+=("$(echo "${RATE[overlapped]} / ${RATE[single]}" | bc -l)")
  printf 'round %d: replicated/single %.2f, overlapped/single %.2f\n' "$r" "${R_REPL[-1]}" "${R_OVER[-1]}"
done
# shellcheck disable=SC2086
kill -CONT $ALL
printf 'floor ratio, median of %d rounds: replicated %.2f (%s), overlapped %.2f (%s)\n' "$ROUNDS" \
  "$(printf '%s\n' "${R_REPL[@]}" | median)" "$(printf '%.2f ' "${R_REPL[@]}" | sed 's/ $//')" \
  "$(printf '%s\n' "${R_OVER[@]}" | median)" "$(printf '%.2f ' "${R_OVER[@]}" | sed 's/ $//')"
