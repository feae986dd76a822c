#!/usr/bin/env bash
# Installs what is needed, builds, and starts a local cluster on loopback
# with its data on disk, then shows a put and a get with kvctl.
# (Now: one central and one edge in dev mode; replication grows it.)
#
#   bash scripts/dev-cluster.sh            # runs until Ctrl-C
#   bash scripts/dev-cluster.sh --detach   # leaves it running in the background
#
# Environment: DATA_DIR (default ./.dev-cluster), GRPC_ADDR (central,
# 127.0.0.1:7100), EDGE_ADDR (127.0.0.1:7300), METRICS_ADDR (edge /metrics,
# 127.0.0.1:9300), HTTP_ADDR (central REST API v4, 127.0.0.1:7180),
# EDGE_HTTP_ADDR (edge REST API v4, 127.0.0.1:7380), EDGE_WORKERD_ADDR (edge
# workerd KV protocol, 127.0.0.1:7390).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DETACH=0
[ "${1:-}" = "--detach" ] && DETACH=1
if [ "$(id -u)" = 0 ]; then bash scripts/install-deps.sh; fi
bash scripts/build.sh kv-central kv-edge kvctl
BIN=$ROOT/${BUILD_DIR:-build}
DATA_DIR=${DATA_DIR:-$ROOT/.dev-cluster}
GRPC_ADDR=${GRPC_ADDR:-127.0.0.1:7100}
EDGE_ADDR=${EDGE_ADDR:-127.0.0.1:7300}
METRICS_ADDR=${METRICS_ADDR:-127.0.0.1:9300}
HTTP_ADDR=${HTTP_ADDR:-127.0.0.1:7180}
EDGE_HTTP_ADDR=${EDGE_HTTP_ADDR:-127.0.0.1:7380}
EDGE_WORKERD_ADDR=${EDGE_WORKERD_ADDR:-127.0.0.1:7390}
mkdir -p "$DATA_DIR"
rm -f "$DATA_DIR/central-1.ready" "$DATA_DIR/edge-1.ready"

"$BIN/central/kv-central" --dev --data_dir="$DATA_DIR/central-1" --grpc_addr="$GRPC_ADDR" \
  --http_addr="$HTTP_ADDR" --ready_file="$DATA_DIR/central-1.ready" 2>"$DATA_DIR/central-1.log" &
PID=$!
for _ in $(seq 1 300); do
  [ -f "$DATA_DIR/central-1.ready" ] && break
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "kv-central failed to start:"; tail -20 "$DATA_DIR/central-1.log"; exit 1
  fi
  sleep 0.1
done
[ -f "$DATA_DIR/central-1.ready" ] || { echo "kv-central did not become ready"; exit 1; }

"$BIN/edge/kv-edge" --dev --centrals="$GRPC_ADDR" --grpc_addr="$EDGE_ADDR" \
  --http_addr="$EDGE_HTTP_ADDR" --workerd_addr="$EDGE_WORKERD_ADDR" \
  --metrics_addr="$METRICS_ADDR" --ready_file="$DATA_DIR/edge-1.ready" \
  2>"$DATA_DIR/edge-1.log" &
EDGE_PID=$!
for _ in $(seq 1 300); do
  [ -f "$DATA_DIR/edge-1.ready" ] && break
  if ! kill -0 "$EDGE_PID" 2>/dev/null; then
    echo "kv-edge failed to start:"; tail -20 "$DATA_DIR/edge-1.log"; kill "$PID"; exit 1
  fi
  sleep 0.1
done
[ -f "$DATA_DIR/edge-1.ready" ] || { echo "kv-edge did not become ready"; kill "$PID"; exit 1; }

export KV_GRPC_ADDR=$GRPC_ADDR
KVCTL="$BIN/tools/kvctl"
# A namespace called "demo" (created on first start, found again afterwards).
NS=$("$KVCTL" namespace list | python3 -c \
  'import json,sys; print(next((n["id"] for n in json.load(sys.stdin) if n["title"]=="demo"), ""))')
if [ -z "$NS" ]; then
  NS=$("$KVCTL" namespace create demo | sed -n 's/^id=//p')
fi
echo
echo "A central serves gRPC on $GRPC_ADDR and an edge on $EDGE_ADDR (dev mode: no auth)."
echo "REST API v4: http://$HTTP_ADDR/client/v4 (central), http://$EDGE_HTTP_ADDR/client/v4 (edge);"
echo "workerd KV protocol at the edge: $EDGE_WORKERD_ADDR (docs/http.md)."
echo "Data in $DATA_DIR; the edge's metrics at http://$METRICS_ADDR/metrics"
echo "+ kvctl key put greeting 'hello, world' --namespace-id $NS          # at the central"
"$KVCTL" key put greeting "hello, world" --namespace-id "$NS"
echo "+ kvctl --addr $EDGE_ADDR key get greeting --namespace-id $NS   # through the edge"
"$KVCTL" --addr "$EDGE_ADDR" key get greeting --namespace-id "$NS"; echo
echo "+ kvctl key put greeting 'hello again' ... ; then the edge, refreshed by its stream:"
"$KVCTL" key put greeting "hello again" --namespace-id "$NS"
for _ in $(seq 1 50); do
  [ "$("$KVCTL" --addr "$EDGE_ADDR" key get greeting --namespace-id "$NS")" = "hello again" ] && break
  sleep 0.02
done
"$KVCTL" --addr "$EDGE_ADDR" key get greeting --namespace-id "$NS"; echo
cat <<USAGE

Try it (KV_GRPC_ADDR=$EDGE_ADDR, or --addr, talks to the edge):
  export KV_GRPC_ADDR=$GRPC_ADDR
  $KVCTL namespace list
  $KVCTL key put mykey "my value" --namespace-id $NS --metadata '{"owner":"me"}' --ttl 3600
  $KVCTL key get mykey --namespace-id $NS
  curl http://$EDGE_HTTP_ADDR/client/v4/accounts/devaccount/storage/kv/namespaces/$NS/values/mykey
  $KVCTL key list --namespace-id $NS --prefix my
  $KVCTL key delete mykey --namespace-id $NS
USAGE
if [ $DETACH = 1 ]; then
  echo "Running in the background (central PID $PID, edge PID $EDGE_PID);"
  echo "stop it with: kill $EDGE_PID $PID"
  exit 0
fi
echo "Press Ctrl-C to stop the cluster (data stays in $DATA_DIR)."
trap 'kill -TERM $EDGE_PID $PID; wait $EDGE_PID $PID; echo stopped' INT TERM
wait $PID
