#!/usr/bin/env bash
# The measurement behind the HTTP library choice (docs/http.md): a minimal
# keep-alive "GET → 11 bytes" server in each candidate Debian library, on
# core 0, loaded by wrk -t1 -c16 on core 1, next to redis-benchmark GET with
# 16 clients. Not part of the build: compiles into a temp dir.
# Usage: bash tools/bench/http_lib_probe/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
g++ -O2 -std=c++20 "$here/beast.cc" -o "$out/beast" -lpthread
g++ -O2 -std=c++20 "$here/httplib.cc" -o "$out/httplib" $(pkg-config --cflags --libs cpp-httplib) -lpthread
g++ -O2 -std=c++20 "$here/civet.cc" -o "$out/civet" -lcivetweb -lpthread
taskset -c 0 redis-server --port 16379 --save '' --appendonly no >/dev/null 2>&1 &
sleep 0.5
redis-cli -p 16379 set key:__rand_int__ hello-value >/dev/null
echo "redis-benchmark -c 16 -t get: $(taskset -c 1 redis-benchmark -p 16379 -c 16 -n 200000 -t get --csv | tail -1)"
port=18100
for srv in "beast 1" "beast 2" "httplib 16" "civet 16"; do
  set -- $srv
  port=$((port + 1))
  taskset -c 0 "$out/$1" "$port" "$2" &
  pid=$!
  sleep 0.5
  echo "== $1 with $2 threads"
  taskset -c 1 wrk -t1 -c16 -d5s --latency "http://127.0.0.1:$port/k" | grep -E 'Requests/sec|99%'
  kill "$pid"
done
