#!/usr/bin/env bash
# Replicated put throughput (issue 5): kv-bench's put workload at one central
# of a 3-central cluster (write quorum 2, every write WAL-synced on 2 of 3)
# against a single central without peers, in the same run, same machine.
#   bash tools/bench/replicated_put.sh [concurrency (16)] [duration (10s)]
# CENTRAL_FLAGS adds flags to the three centrals (e.g.
# "--replication_batches_in_flight=1"); CENTRAL1_FLAGS, CENTRAL2_FLAGS and
# CENTRAL3_FLAGS add flags to that central only (e.g. CENTRAL1_FLAGS=
# "--sync_writes=false" takes central 1's WAL sync out of the write's path,
# to bound what overlapping it would gain); CENTRAL picks another binary;
# BENCH_FLAGS adds flags to both kv-bench runs (e.g. "--value_size=4096").
# Prints the load average before each phase (the machine may be shared),
# both rates and their ratio, per write the CPU, context switches and WAL
# syncs (all centrals, and central 1), and what each of the six Pull streams
# did (kv_replication_*: applies, entries per apply, time applying).
# Each phase also splits a write's mean latency: at the client (writers /
# rate), inside the central (request read to answer) and, replicated, the
# part from central 1's local commit to the write quorum
# (kv_quorum_wait_seconds).
# THREADS=1 adds context switches (and how many of them were preemptions)
# and CPU per write by thread name.
# PERF=DIR records a call-graph profile of each central during the
# replicated phase (DIR/central-N.data; `perf report -i ...`; PERF_ARGS
# replaces the default "-F 499 -g", e.g. "-F 199 --call-graph dwarf").
# ROUNDS=N (default 3) alternates the two phases N times, each round a
# single-central phase then a replicated one, and prints every round's
# ratio and their median: the host's speed drifts over minutes, and one
# pair of phases can land on either side of a drift. Both setups stay up
# for the whole run; the one not being measured is stopped (SIGSTOP), so
# the cluster's background work (heartbeats, anti-entropy) never runs
# during a single-central phase. The streams the stop broke reconnect
# before each replicated phase.
# Every node binds 127.0.0.1 port 0; the peers file is written once all
# ports are known.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
C=${1:-16}
DUR=${2:-10s}
ROUNDS=${ROUNDS:-3}
CENTRAL=${CENTRAL:-$BUILD_DIR/central/kv-central}
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
metrics() { curl -s "127.0.0.1:$(sed -n 's/^metrics_port=//p' "$D/ready-$1")/metrics"; }
# plain NODE SERIES: the value of SERIES (name and labels as printed) at
# central NODE, as printed (no rounding), 0 when absent.
plain() { metrics "$1" | awk -v n="$2" '$1 == n { v = $2 } END { print (v == "") ? 0 : v }'; }
# metric NODE NAME [PEER]: the value of NAME{peer="PEER"} (default 1) at
# central NODE, 0 when absent.
metric() { plain "$1" "$2{peer=\"${3:-1}\"}"; }
rate() { awk '{ for (i = 1; i < NF; ++i) if ($(i + 1) == "ops/s") print $i }'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
# CPU seconds (user + system) the given processes have used so far.
cpu() { local t=0; for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
        echo "$t / $(getconf CLK_TCK)" | bc -l; }
ops() { echo "$1" | rate; }
# Context switches (voluntary + involuntary) of the given processes' threads.
switches() { local t=0; for p in "$@"; do
  t=$((t + $(cat /proc/"$p"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }')))
  done; echo "$t"; }
# Per thread name of one process: "name switches cpu-ticks" (threads of the
# same name summed), for the per-thread breakdown (THREADS=1).
per_thread() { for t in /proc/"$1"/task/*; do
  printf '%s %s %s %s\n' "$(tr ' ' _ <"$t/comm")" \
    "$(awk '/ctxt_switches/ { s += $2 } END { print s + 0 }' "$t/status" 2>/dev/null)" \
    "$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null)" \
    "$(awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "$t/status" 2>/dev/null)"
  done | awk '{ s[$1] += $2; c[$1] += $3; p[$1] += $4; n[$1]++ } END { for (k in s) print k, n[k], s[k], c[k], p[k] }'; }
# Prints, per thread name, the context switches and CPU per write between two
# per_thread snapshots.
thread_delta() {  # before after writes
  awk -v w="$3" -v hz="$(getconf CLK_TCK)" 'NR == FNR { s[$1] = $3; c[$1] = $4; p[$1] = $5; next }
    { ds = $3 - s[$1]; dc = $4 - c[$1]; dp = $5 - p[$1]; if (ds > w / 100 || dc > 0)
        printf "  %-16s x%-3d %5.2f switches (%4.2f preempted), %4.0f us CPU per write\n", $1, $2, ds / w, dp / w, dc * 1e6 / hz / w }' \
    "$1" "$2" | sort -k3 -rn; }
# The mean, in microseconds, of histogram NAME{LABELS} at NODE since the
# "sum count" snapshot given: mean_us NODE NAME LABELS "sum0 count0".
snapshot() { echo "$(plain "$1" "$2_sum$3") $(plain "$1" "$2_count$3")"; }
mean_us() { local now; now=$(snapshot "$1" "$2" "$3")
  echo "$now $4" | awk '{ n = $2 - $4; print (n > 0) ? ($1 - $3) * 1e6 / n : 0 }'; }
# Bytes through the loopback interface (every node and client here).
lo_bytes() { awk '$1 == "lo:" { print $2 }' /proc/net/dev; }
# WAL syncs of the given centrals (by id).
syncs() { local t=0; for i in "$@"; do
  t=$(echo "$t + $(plain "$i" kv_rocksdb_wal_synced_total)" | bc); done; echo "$t"; }

start 9 --metrics_addr=127.0.0.1:0
SINGLE=${PIDS[0]}
# A long silence timeout: the stop of a single-central phase must not cut
# the streams (they would reconnect during the next replicated phase).
for i in 1 2 3; do rm -f "$D/ready-$i"; own=CENTRAL${i}_FLAGS
  start "$i" --peers_file="$D/peers" --metrics_addr=127.0.0.1:0 \
    --replication_silence_timeout=10m ${CENTRAL_FLAGS:-} ${!own:-}; done
CLUSTER=("${PIDS[@]:1:3}")
for i in 1 2 3; do echo "$i 127.0.0.1:$(port "$i")"; done >"$D/peers.tmp"
mv "$D/peers.tmp" "$D/peers"
# Waits until central 1 replicates from both peers and they from it.
await_connected() {
  local connected=0
  for _ in $(seq 1 300); do
    connected=0
    for i in 1 2 3; do
      n=$(metrics "$i" | grep -c '^kv_replication_connected{.*} 1' || true)
      connected=$((connected + n))
    done
    [ "$connected" = 6 ] && return 0
    sleep 0.1
  done
  echo "replication did not connect"; exit 1
}
await_connected
# Streams as "receiver:source".
STREAMS="2:1 3:1 1:2 1:3 2:3 3:2"
spins() { metrics 1 | awk -v r="$1" '$1 == "kv_poller_idle_spins_total{result=\"" r "\"}" { print $2 }'; }
RATIOS=()

single_phase() {
  echo "== round $1: single central, $C writers (load average $(loadavg))"
  cpu0=$(cpu "$SINGLE"); cs0=$(switches "$SINGLE")
  [ -n "${THREADS:-}" ] && per_thread "$SINGLE" >"$D/threads-single.0"
  put0=$(snapshot 9 kv_request_duration_seconds '{op="put"}')
  single=$("$BENCH" --workload=put --addr="127.0.0.1:$(port 9)" --server_pid="$SINGLE" --concurrency="$C" --duration="$DUR" ${BENCH_FLAGS:-} 2>&1 | tail -1)
  echo "$single"
  printf 'latency per write (means): %.0f us at the client, %.0f us in the central (request read to answer)\n' \
    "$(echo "$C * 1000000 / $(ops "$single")" | bc -l)" "$(mean_us 9 kv_request_duration_seconds '{op="put"}' "$put0")"
  printf 'per write: %.0f us CPU, %.1f context switches\n' \
    "$(echo "($(cpu "$SINGLE") - $cpu0) * 1000000 / ($(ops "$single") * ${DUR%s})" | bc -l)" \
    "$(echo "($(switches "$SINGLE") - $cs0) / ($(ops "$single") * ${DUR%s})" | bc -l)"
  if [ -n "${THREADS:-}" ]; then
    per_thread "$SINGLE" >"$D/threads-single.1"
    echo "by thread:"; thread_delta "$D/threads-single.0" "$D/threads-single.1" "$(echo "$(ops "$single") * ${DUR%s}" | bc -l)"
  fi
}

replicated_phase() {
  declare -A before
  for st in $STREAMS; do
    for m in applies entries apply_seconds; do
      before[$st$m]=$(metric "${st%:*}" "kv_replication_${m}_total" "${st#*:}")
    done
    before[${st}left]=$(metric "${st#*:}" kv_replication_relays_left_out_total "${st%:*}")
  done
  echo "== round $1: 3 centrals (write quorum 2), $C writers at central 1 (load average $(loadavg))"
  cpu0=$(cpu "${CLUSTER[@]}"); cs0=$(switches "${CLUSTER[@]}"); sy0=$(syncs 1 2 3); lo0=$(lo_bytes)
  cpu1=$(cpu "${CLUSTER[0]}"); cs1=$(switches "${CLUSTER[0]}"); sy1=$(syncs 1)
  cpu2=$(cpu "${CLUSTER[1]}"); cpu3=$(cpu "${CLUSTER[2]}")
  spe0=$(spins event); spx0=$(spins expired)
  put0=$(snapshot 1 kv_request_duration_seconds '{op="put"}'); quorum0=$(snapshot 1 kv_quorum_wait_seconds '')
  if [ -n "${THREADS:-}" ]; then for i in 0 1 2; do per_thread "${CLUSTER[$i]}" >"$D/threads-$i.0"; done; fi
  PERF_PIDS=()
  if [ -n "${PERF:-}" ]; then mkdir -p "$PERF"; for i in 0 1 2; do
    perf record -q ${PERF_ARGS:--F 499 -g} -p "${CLUSTER[$i]}" -o "$PERF/central-$((i + 1))-round-$1.data" 2>/dev/null &
    PERF_PIDS+=($!)
  done; fi
  replicated=$("$BENCH" --workload=put --addr="127.0.0.1:$(port 1)" --server_pid="${CLUSTER[0]}" --concurrency="$C" --duration="$DUR" ${BENCH_FLAGS:-} 2>&1 | tail -1)
  echo "$replicated"
  for p in "${PERF_PIDS[@]}"; do kill -INT "$p"; wait "$p" || true; done
  writes=$(echo "$(ops "$replicated") * ${DUR%s}" | bc -l)
  printf 'per write, 3 centrals together: %.0f us CPU, %.1f context switches, %.2f WAL syncs, %.0f bytes over loopback (client included)\n' \
    "$(echo "($(cpu "${CLUSTER[@]}") - $cpu0) * 1000000 / $writes" | bc -l)" \
    "$(echo "($(switches "${CLUSTER[@]}") - $cs0) / $writes" | bc -l)" \
    "$(echo "($(syncs 1 2 3) - $sy0) / $writes" | bc -l)" \
    "$(echo "($(lo_bytes) - $lo0) / $writes" | bc -l)"
  printf '            of which central 1: %.0f us CPU, %.1f context switches, %.2f WAL syncs\n' \
    "$(echo "($(cpu "${CLUSTER[0]}") - $cpu1) * 1000000 / $writes" | bc -l)" \
    "$(echo "($(switches "${CLUSTER[0]}") - $cs1) / $writes" | bc -l)" \
    "$(echo "($(syncs 1) - $sy1) / $writes" | bc -l)"
  printf '            central 2 (the quorum peer): %.0f us CPU, central 3 (the follower): %.0f us CPU\n' \
    "$(echo "($(cpu "${CLUSTER[1]}") - $cpu2) * 1000000 / $writes" | bc -l)" \
    "$(echo "($(cpu "${CLUSTER[2]}") - $cpu3) * 1000000 / $writes" | bc -l)"
  # Where a write's latency goes: the writers are a closed loop, so the
  # mean latency at the client is writers / rate (Little's law).
  printf 'latency per write (means): %.0f us at the client, %.0f us in central 1 (request read to answer), of which %.0f us from its local commit to the write quorum\n' \
    "$(echo "$C * 1000000 / $(ops "$replicated")" | bc -l)" \
    "$(mean_us 1 kv_request_duration_seconds '{op="put"}' "$put0")" \
    "$(mean_us 1 kv_quorum_wait_seconds '' "$quorum0")"
  printf '            central 1 poller idle spins per write: %.2f ended by an event, %.2f expired\n' \
    "$(echo "($(spins event) - $spe0) / $writes" | bc -l)" "$(echo "($(spins expired) - $spx0) / $writes" | bc -l)"
  if [ -n "${THREADS:-}" ]; then for i in 0 1 2; do
    per_thread "${CLUSTER[$i]}" >"$D/threads-$i.1"
    echo "central $((i + 1)) by thread:"; thread_delta "$D/threads-$i.0" "$D/threads-$i.1" "$writes"
  done; fi
  secs=${DUR%s}
  for st in $STREAMS; do
    i=${st%:*}; src=${st#*:}
    a=$(echo "$(metric "$i" kv_replication_applies_total "$src") - ${before[${st}applies]}" | bc)
    e=$(echo "$(metric "$i" kv_replication_entries_total "$src") - ${before[${st}entries]}" | bc)
    t=$(echo "$(metric "$i" kv_replication_apply_seconds_total "$src") - ${before[${st}apply_seconds]}" | bc -l)
    l=$(echo "$(metric "$src" kv_replication_relays_left_out_total "$i") - ${before[${st}left]:-0}" | bc 2>/dev/null || echo 0)
    [ "$a" = 0 ] && a=1
    printf 'central %s from central %s: %s applies, %.1f entries each (%s sent as NOOPs, held here), %.0f us per apply, applying %.0f%% of the time\n' \
      "$i" "$src" "$a" "$(echo "$e / $a" | bc -l)" "${l:-0}" "$(echo "$t * 1000000 / $a" | bc -l)" "$(echo "$t * 100 / $secs" | bc -l)"
  done
}

for r in $(seq 1 "$ROUNDS"); do
  kill -STOP "${CLUSTER[@]}"
  single_phase "$r"
  kill -CONT "${CLUSTER[@]}"
  kill -STOP "$SINGLE"
  await_connected
  replicated_phase "$r"
  kill -CONT "$SINGLE"
  RATIOS+=("$(echo "$(ops "$replicated") / $(ops "$single")" | bc -l)")
  printf 'round %d: ratio %.2f (load average %s)\n' "$r" "${RATIOS[-1]}" "$(loadavg)"
done
printf 'ratio %.2f: median of %d rounds (%s)\n' \
  "$(printf '%s\n' "${RATIOS[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')" \
  "$ROUNDS" "$(printf '%.2f ' "${RATIOS[@]}" | sed 's/ $//')"
