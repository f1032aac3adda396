# Shared by the end-to-end scripts (sourced, not run): failing, installing the
# pinned npm packages, and a real `upfront serve` on a fresh data directory.
#
#   source "$here/../server.sh"
#   npm_ci_if_stale "$here"
#   e2e_scratch segment               # sets tmp; removed, with the server, on exit
#   start_server "$upfront" "$policy" # sets server_pid, base, admin_key; server_log prints its output

die() { echo "FAIL: $*" >&2; exit 1; }

# npm ci only when node_modules was not installed from this package-lock.json.
npm_ci_if_stale() {
  local dir=$1 lock_sum stamp
  lock_sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp=$dir/node_modules/.upfront-package-lock.sha256
  if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_sum" ]; then
    echo "run_test: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $dir"
    echo "$lock_sum" >"$stamp"
  fi
}

server_pid=""
e2e_cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 200); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}

e2e_scratch() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/upfront-$1-e2e.XXXXXX")
  trap e2e_cleanup EXIT
}

server_log() {
  { echo "--- server stdout:"; tail -100 "$tmp/server.out"; echo "--- server stderr:"; tail -100 "$tmp/server.err"; } >&2
}

# Starts the server on port 0 and waits until it says where it listens.
start_server() {
  local upfront=$1 policy=$2 port="" deadline
  : >"$tmp/server.out"  # exists before the first poll below
  # The policy's email webhook needs a signing secret; nothing is sent to it here.
  UPFRONT_EMAIL_SECRET="whsec_$(head -c 32 /dev/urandom | base64 -w0)" \
    "$upfront" serve --data "$tmp/data" --policy "$policy" --listen 127.0.0.1:0 \
    >"$tmp/server.out" 2>"$tmp/server.err" &
  server_pid=$!
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
}
