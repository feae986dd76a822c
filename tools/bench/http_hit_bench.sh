#!/usr/bin/env bash
# Edge HTTP cache-hit throughput (issue 6): wrk with keep-alive and 16
# connections against a kv-edge's REST value read and workerd-protocol read
# of one cached key, and redis-benchmark GET with 16 clients in the same
# run as the baseline. The server under test runs on core 0, the load
# generator on core 1 (as kv-bench's edge-hit workload).
# Usage: tools/bench/http_hit_bench.sh [BUILD_DIR] [SECONDS]
# EDGE_FLAGS adds kv-edge flags (e.g. --http_io_threads=2).
# Needs wrk, redis-server and redis-benchmark (scripts/install-deps.sh).
set -euo pipefail
build="${1:-build}"
secs="${2:-10}"
for tool in wrk redis-server redis-benchmark taskset curl; do
  command -v "$tool" >/dev/null || { echo "http_hit_bench: $tool is missing" >&2; exit 2; }
done
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_file() { for _ in $(seq 1 200); do [ -f "$1" ] && return 0; sleep 0.05; done; return 1; }
field() { grep "^$2=" "$1" | cut -d= -f2; }

taskset -c 0 "$build/central/kv-central" --dev --data_dir="$work/data" --grpc_addr=127.0.0.1:0 \
  --http_addr=127.0.0.1:0 --ready_file="$work/c.ready" >"$work/c.log" 2>&1 &
pids+=($!)
wait_file "$work/c.ready"
taskset -c 0 "$build/edge/kv-edge" --dev --centrals="127.0.0.1:$(field "$work/c.ready" grpc_port)" \
  --grpc_addr=127.0.0.1:0 --metrics_addr=127.0.0.1:0 --http_addr=127.0.0.1:0 \
  --workerd_addr=127.0.0.1:0 --ready_file="$work/e.ready" ${EDGE_FLAGS:-} >"$work/e.log" 2>&1 &
pids+=($!)
wait_file "$work/e.ready"
central="http://127.0.0.1:$(field "$work/c.ready" http_port)/client/v4/accounts/devaccount/storage/kv/namespaces"
edge_rest="http://127.0.0.1:$(field "$work/e.ready" http_port)/client/v4/accounts/devaccount/storage/kv/namespaces"
edge_workerd="http://127.0.0.1:$(field "$work/e.ready" workerd_port)"
ns=$(curl -sf -XPOST "$central" -d '{"title":"bench"}' | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
value=$(head -c 100 /dev/zero | tr '\0' v)
curl -sf -XPUT "$central/$ns/values/hot" --data-binary "$value" >/dev/null
# Warm the edge cache; both reads must report a hit from here on.
curl -sf "$edge_rest/$ns/values/hot" >/dev/null
status=$(curl -sf -D - -o /dev/null -H "X-KV-Namespace-Id: $ns" "$edge_workerd/hot?urlencoded=true" |
  tr -d '\r' | grep -i '^cf-cache-status' | cut -d' ' -f2)
[ "$status" = HIT ] || { echo "http_hit_bench: expected a cache hit, got '$status'" >&2; exit 1; }

run_wrk() {  # name url [header]
  local out
  if [ $# -ge 3 ]; then
    out=$(taskset -c 1 wrk -t1 -c16 -d"${secs}s" --latency -H "$3" "$2")
  else
    out=$(taskset -c 1 wrk -t1 -c16 -d"${secs}s" --latency "$2")
  fi
  local rps p99 non2xx
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  echo "$1 $rps $p99 ${non2xx:-0}"
}

taskset -c 0 redis-server --port 16399 --bind 127.0.0.1 --save '' --appendonly no \
  >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p 16399 ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p 16399 set key:__rand_int__ "$value" >/dev/null
redis_csv=$(taskset -c 1 redis-benchmark -p 16399 -c 16 -n $((secs * 40000)) -t get --csv |
  tail -1)
redis_rps=$(echo "$redis_csv" | cut -d, -f2 | tr -d '"')
redis_p99=$(echo "$redis_csv" | cut -d, -f7 | tr -d '"')

read -r _ rest_rps rest_p99 rest_bad < <(run_wrk rest "$edge_rest/$ns/values/hot")
read -r _ wd_rps wd_p99 wd_bad < <(run_wrk workerd "$edge_workerd/hot?urlencoded=true" \
  "X-KV-Namespace-Id: $ns")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "| load | requests/s | p99 | ratio to redis |"
echo "| --- | --- | --- | --- |"
echo "| redis-benchmark -c 16 -t get | $redis_rps | ${redis_p99} ms | 1.00 |"
echo "| kv-edge REST GET value (wrk -c16, keep-alive) | $rest_rps | $rest_p99 | $(ratio "$rest_rps" "$redis_rps") |"
echo "| kv-edge workerd GET (wrk -c16, keep-alive) | $wd_rps | $wd_p99 | $(ratio "$wd_rps" "$redis_rps") |"
if [ "${rest_bad}" != 0 ] || [ "${wd_bad}" != 0 ]; then
  echo "http_hit_bench: non-2xx responses: rest $rest_bad, workerd $wd_bad" >&2
  exit 1
fi
