#!/usr/bin/env bash
# End-to-end: the official Segment Node.js client (@segment/analytics-node, pinned in
# package-lock.json) sends page, track and identify events to `upfront serve`, and
# the merged customer profile shows every one of them.
#
#   run_test.sh UPFRONT_BINARY SOURCE_DIR
#
# Starts the server on a fresh data directory and port 0, creates an ingest key
# with the first admin key, runs send_events.mjs with that key as the Segment
# writeKey, then reads the profile back by userId and by anonymousId. Prints
# `PASS: ...` / `FAIL: ...` lines; exits 0 only when every check passed. Needs
# node and npm (scripts/install-deps installs them); HTTP is done with node, so
# curl is not needed. `npm ci` runs only when node_modules is missing or was
# installed from a different package-lock.json.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../server.sh"

[ $# -eq 2 ] || die "usage: $0 UPFRONT_BINARY SOURCE_DIR"
upfront=$1
source_dir=$2
policy=$source_dir/examples/ecommerce/policy.yaml
[ -x "$upfront" ] || die "$upfront is not an executable"
[ -f "$policy" ] || die "$policy not found"
for tool in node npm; do
  command -v "$tool" >/dev/null ||
    die "'$tool' is not on PATH; run scripts/install-deps (it installs Debian's nodejs and npm)"
done

npm_ci_if_stale "$here"

# --- a fresh data directory and a server on port 0
e2e_scratch segment
start_server "$upfront" "$policy"

# http METHOD PATH KEY [JSON_BODY]: prints "STATUS BODY" (body on one line);
# STATUS 000 when there was no answer.
http() {
  node --input-type=module -e '
    const [method, url, key, body] = process.argv.slice(1);
    const init = { method, headers: { Authorization: `Bearer ${key}` } };
    if (body) { init.body = body; init.headers["Content-Type"] = "application/json"; }
    try {
      const res = await fetch(url, init);
      const text = await res.text();
      console.log(`${res.status} ${text.replace(/\n/g, " ")}`);
    } catch (err) {
      console.log(`000 ${method} ${url}: ${err.cause?.message ?? err.message}`);
    }
  ' "$1" "$base$2" "$3" "${4:-}"
}

failures=0
check() {  # check DESCRIPTION STATUS: STATUS 0 is a pass, anything else a failure
  if [ "$2" -eq 0 ]; then echo "PASS: $1"; else echo "FAIL: $1"; failures=$((failures + 1)); fi
}

# --- an ingest key, used as the Segment writeKey
reply=$(http POST /v1/keys "$admin_key" '{"role":"ingest","name":"segment-node"}')
[ "${reply%% *}" = 201 ] || die "POST /v1/keys answered: $reply"
write_key=$(node -e 'console.log(JSON.parse(process.argv[1]).secret ?? "")' "${reply#* }")
[ -n "$write_key" ] || die "POST /v1/keys returned no secret: $reply"

# --- the real client sends the journey
user_id=e2e-user-$$
anon_id=e2e-anon-$$
if sent=$(node "$here/send_events.mjs" --host "$base" --write-key "$write_key" \
            --user-id "$user_id" --anonymous-id "$anon_id"); then
  check "analytics-node delivered every event and the server accepted all of them: $sent" 0
else
  check "analytics-node delivered every event and the server accepted all of them" 1
  server_log
  exit 1
fi

# --- the profile, by userId and by anonymousId
# assert_profile DESCRIPTION PATH_ID: checks the merged profile read through PATH_ID.
assert_profile() {
  local reply status body
  reply=$(http GET "/v1/customers/$2" "$admin_key")
  status=${reply%% *}
  body=${reply#* }
  if [ "$status" != 200 ]; then
    check "$1: GET /v1/customers/$2 answered 200 (got: $reply)" 1
    return
  fi
  # Each line printed is "ok|bad<TAB>what was checked"; concrete values, so a lost,
  # duplicated or unmerged event fails.
  while IFS=$'\t' read -r verdict what; do
    if [ "$verdict" = ok ]; then check "$1: $what" 0; else check "$1: $what" 1; fi
  done < <(node -e '
    const [body, userId, anonId] = process.argv.slice(1);
    const p = JSON.parse(body);
    const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
    const checks = [
      [`id is ${userId}`, p.id === userId],
      [`userId is ${userId}`, p.userId === userId],
      [`anonymousIds is [${anonId}]`, same(p.anonymousIds, [anonId])],
      [`mergedIds is [${anonId}] (the anonymous profile was merged in)`, same(p.mergedIds, [anonId])],
      ["events is 4 (page, track, identify, track)", p.events === 4],
      ["eventCounts is exactly 1 each of Checkout Step Viewed, Identify, Order Completed, Page Viewed",
        same(p.eventCounts, { "Checkout Step Viewed": 1, "Identify": 1, "Order Completed": 1, "Page Viewed": 1 })],
      ["outcomes.purchase is 1", p.outcomes?.purchase === 1],
      ["lateEvents is 0", p.lateEvents === 0],
      ["traits are the kept ones: plan=pro, country=NL, locale=nl-NL (favorite_color dropped)",
        same(p.traits, { country: "NL", locale: "nl-NL", plan: "pro" })],
      ["firstSeen and lastSeen are set", typeof p.firstSeen === "string" && typeof p.lastSeen === "string"],
    ];
    for (const [what, ok] of checks) console.log(`${ok ? "ok" : "bad"}\t${what}`);
    if (checks.some(([, ok]) => !ok)) console.log(`bad\tthe profile was: ${body}`);
  ' "$body" "$user_id" "$anon_id")
}
assert_profile "profile by userId" "$user_id"
assert_profile "profile by anonymousId" "$anon_id"

# --- a graceful stop: SIGTERM, exit status 0
kill -TERM "$server_pid"
deadline=$((SECONDS + 15))
while kill -0 "$server_pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
if kill -0 "$server_pid" 2>/dev/null; then
  check "upfront serve stopped within 15 s of SIGTERM" 1  # cleanup kills it
else
  status=0
  wait "$server_pid" || status=$?
  server_pid=""
  check "upfront serve stopped on SIGTERM with exit status 0 (got $status)" $((status == 0 ? 0 : 1))
fi

if [ "$failures" -ne 0 ]; then
  server_log
  echo "FAIL: SegmentClient: $failures check(s) failed"
  exit 1
fi
echo "PASS: SegmentClient: @segment/analytics-node events reach the merged profile"
