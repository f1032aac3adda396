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
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../server.sh"

[ $# -eq 3 ] || die "usage: $0 UPFRONT_BINARY SOURCE_DIR ARTIFACTS_DIR"
upfront=$1
source_dir=$2
artifacts=$3
[ -x "$upfront" ] || die "$upfront is not an executable"
for tool in node npm; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH; run scripts/install-deps"
done
chromium=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$chromium" ] || die "Debian's chromium is not installed; run scripts/install-deps"

npm_ci_if_stale "$here"
e2e_scratch console

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
start_server "$upfront" "$policy"

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
