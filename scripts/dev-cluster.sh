#!/usr/bin/env bash
# From a fresh clone: installs the Debian packages (as root), builds, and
# ends in `kvctl dev`: a local cluster of 3 kv-central and 2 kv-edge
# processes on 127.0.0.1 with their data in ./.dev-cluster; then shows a put
# at a central read back through an edge.
#
#   bash scripts/dev-cluster.sh                     # runs until Ctrl-C
#   bash scripts/dev-cluster.sh --detach            # leaves it running
#   bash scripts/dev-cluster.sh --centrals 1 --edges 1 --base_port 7100
#
# Other arguments go to `kvctl dev` (see `build/tools/kvctl --help`).
# Environment: DATA_DIR (default ./.dev-cluster), BUILD_DIR (build).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DETACH=0
ARGS=()
for a in "$@"; do
  if [ "$a" = "--detach" ]; then DETACH=1; else ARGS+=("$a"); fi
done
if [ "$(id -u)" = 0 ]; then bash scripts/install-deps.sh; fi
bash scripts/build.sh kv-central kv-edge kvctl
KVCTL=$ROOT/${BUILD_DIR:-build}/tools/kvctl
DATA_DIR=${DATA_DIR:-$ROOT/.dev-cluster}
ENV_FILE=$DATA_DIR/cluster.env
mkdir -p "$DATA_DIR"
rm -f "$ENV_FILE"

# kvctl dev in its own session, so this script decides when it stops.
setsid "$KVCTL" dev --data_dir "$DATA_DIR" ${ARGS[@]+"${ARGS[@]}"} >"$DATA_DIR/kvctl-dev.out" 2>&1 &
DEV_PID=$!
stop() { kill -TERM "$DEV_PID" 2>/dev/null || true; wait "$DEV_PID" || true; cat "$DATA_DIR/kvctl-dev.out" | tail -1; }
for _ in $(seq 1 1200); do
  [ -f "$ENV_FILE" ] && break
  if ! kill -0 "$DEV_PID" 2>/dev/null; then
    cat "$DATA_DIR/kvctl-dev.out"; exit 1
  fi
  sleep 0.1
done
[ -f "$ENV_FILE" ] || { echo "kvctl dev did not start within 120 s:"; cat "$DATA_DIR/kvctl-dev.out"; stop; exit 1; }
grep -v '^Try:\|^      \|^Ctrl-C' "$DATA_DIR/kvctl-dev.out"

# shellcheck disable=SC1090
source "$ENV_FILE"
EDGE=${KV_EDGE_GRPC_ADDRS%% *}
# A namespace called "demo" (created on first start, found again afterwards).
NS=$("$KVCTL" namespace list | python3 -c \
  'import json,sys; print(next((n["id"] for n in json.load(sys.stdin) if n["title"]=="demo"), ""))')
if [ -z "$NS" ]; then
  NS=$("$KVCTL" namespace create demo | sed -n 's/^id=//p')
fi
echo
echo "+ kvctl key put greeting 'hello, world' --namespace-id $NS          # at a central"
"$KVCTL" key put greeting "hello, world" --namespace-id "$NS"
if [ -n "$EDGE" ]; then
  echo "+ kvctl --addr $EDGE key get greeting --namespace-id $NS   # through an edge"
  "$KVCTL" --addr "$EDGE" key get greeting --namespace-id "$NS"; echo
fi
cat <<USAGE

Try it (kvctl reads the endpoints from the environment, or --config $ENV_FILE):
  source $ENV_FILE
  $KVCTL namespace list
  $KVCTL key put mykey "my value" --namespace-id $NS --metadata '{"owner":"me"}' --ttl 3600
  $KVCTL key get mykey --namespace-id $NS
  curl ${KV_EDGE_REST_URLS%% *}/accounts/$KV_ACCOUNT/storage/kv/namespaces/$NS/values/mykey   # REST v4 at an edge
  $KVCTL key list --namespace-id $NS --prefix my
  $KVCTL bulk put entries.json --namespace-id $NS     # wrangler's format, with progress
USAGE
if [ $DETACH = 1 ]; then
  echo "Running in the background (kvctl dev PID $DEV_PID); stop it with: kill $DEV_PID"
  exit 0
fi
echo "Press Ctrl-C to stop the cluster (data stays in $DATA_DIR)."
trap 'stop; exit 0' INT TERM
wait "$DEV_PID"
