#!/usr/bin/env bash
# End-to-end: the web console in Debian's headless Chromium (driven by
# playwright-core, pinned in package-lock.json) against a real `upfront serve`
# holding simulated customers.
#
#   run_test.sh UPFRONT_BINARY SOURCE_DIR ARTIFACTS_DIR
#
# 1. Simulates 400 ecommerce customers for a day (`upfront simulate
#    --events-out`) and starts the server on a fresh data directory, port 0,
#    with the ecommerce policy where the delivery heads-up is `sensitive`
#    (every one goes to human review), so the queue fills from real decisions.
# 2. Streams the simulated day in (`upfront send --live`), then 11,000 customers
#    with a late shipment each, in a timezone where it is midday now (quiet
#    hours would hold them otherwise): more than 10,000 pending review items.
# 3. Creates agent, analyst and admin keys, uploads a second policy version,
#    and runs console_test.mjs, which signs in as each and checks the pages.
# Screenshots of every page go to ARTIFACTS_DIR. Prints PASS/FAIL lines.
set -euo pipefail

die() { echo "FAIL: $*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: $0 UPFRONT_BINARY SOURCE_DIR ARTIFACTS_DIR"
upfront=$1
source_dir=$2
artifacts=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -x "$upfront" ] || die "$upfront is not an executable"
for tool in node npm; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH; run scripts/install-deps"
done
chromium=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] || die "Debian's chromium is not installed; run scripts/install-deps"

# --- dependencies: npm ci only when node_modules does not match package-lock.json
lock_sum=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
stamp=$here/node_modules/.upfront-package-lock.sha256
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sum" ]; then
  echo "run_test: npm ci in $here"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $here"
  echo "$lock_sum" >"$stamp"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/upfront-console-e2e.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- the policy: ecommerce, with every delivery heads-up reviewed by a human
policy=$tmp/policy.yaml
sed '/^  delivery_heads_up:$/a\    sensitive: true' "$source_dir/examples/ecommerce/policy.yaml" >"$policy"
grep -q "^    sensitive: true" <(sed -n '/^  delivery_heads_up:$/,/^  [a-z_]*:$/p' "$policy") ||
  die "could not mark delivery_heads_up sensitive in the test policy"
"$upfront" check "$policy" >/dev/null || die "the test policy does not check"

# --- simulated customers
"$upfront" simulate --policy "$policy" --customers 400 --days 1 --seed 11 \
  --events-out "$tmp/simulated.jsonl" --out "$tmp/simulation" >"$tmp/simulate.log" 2>&1 ||
  { cat "$tmp/simulate.log" >&2; die "upfront simulate failed"; }

# --- the server
: >"$tmp/server.out"
UPFRONT_EMAIL_SECRET="whsec_$(head -c 32 /dev/urandom | base64 -w0)" \
  "$upfront" serve --data "$tmp/data" --policy "$policy" --listen 127.0.0.1:0 \
  >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
server_log() { echo "--- server stdout:"; tail -50 "$tmp/server.out"; echo "--- server stderr:"; tail -50 "$tmp/server.err"; } >&2
port=""
deadline=$((SECONDS + 30))
while [ -z "$port" ]; do
  port=$(sed -n 's|^upfront: serving .* on http://127\.0\.0\.1:\([0-9][0-9]*\) .*|\1|p' "$tmp/server.out")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { server_log; die "upfront serve exited before it was listening"; }
  [ "$SECONDS" -lt "$deadline" ] || { server_log; die "upfront serve printed no 'serving ... on http://' line within 30 s"; }
  sleep 0.05
done
base=http://127.0.0.1:$port
admin_key=$(sed -n '/created the first admin key/{n;s/^  //p;}' "$tmp/server.out")
[ -n "$admin_key" ] || { server_log; die "no first admin key on the server's stdout"; }
echo "run_test: upfront serve is on $base"

export UPFRONT_BASE=$base UPFRONT_ADMIN_KEY=$admin_key UPFRONT_POLICY=$policy UPFRONT_BINARY=$upfront \
       UPFRONT_SIMULATED=$tmp/simulated.jsonl UPFRONT_ARTIFACTS=$artifacts CHROMIUM=$chromium
mkdir -p "$artifacts"
status=0
node "$here/console_test.mjs" || status=$?
if [ "$status" -ne 0 ]; then
  server_log
  echo "FAIL: Console: console_test.mjs failed (screenshots in $artifacts)"
  exit 1
fi
echo "PASS: Console: every page works in headless Chromium (screenshots in $artifacts)"
