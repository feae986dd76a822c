#!/usr/bin/env bash
# Installs the real clients (cloudflare SDK, wrangler, and the workerd that
# wrangler pins) at the versions in package.json into a local folder, never
# globally. Idempotent: a folder already holding those versions is reused.
# Usage: bash tests/compat/setup.sh DIR
# Exits 0 when the clients are ready in DIR/node_modules; 2 when Node or npm
# is missing (the compat tests then skip, except with KV_REQUIRE_CLIENTS=1,
# where they fail); 1 when the install failed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="${1:?usage: setup.sh DIR}"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "compat setup: node and npm are not installed" >&2
  [ "${KV_REQUIRE_CLIENTS:-0}" = 1 ] && exit 1
  exit 2
fi
mkdir -p "$dir"
if [ -f "$dir/package.json" ] && cmp -s "$here/package.json" "$dir/package.json" &&
   [ -f "$dir/node_modules/cloudflare/package.json" ] &&
   [ -f "$dir/node_modules/wrangler/package.json" ] &&
   node -e "process.exit(require('$dir/node_modules/cloudflare/package.json').version === '7.3.0' && require('$dir/node_modules/wrangler/package.json').version === '4.86.0' ? 0 : 1)"; then
  echo "compat setup: clients already installed in $dir"
  exit 0
fi
cp "$here/package.json" "$dir/package.json"
echo "compat setup: npm install into $dir"
(cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
node -e "console.log('workerd binary:', require('$dir/node_modules/workerd').default)" \
  --input-type=commonjs 2>/dev/null || true
