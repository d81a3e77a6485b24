#!/usr/bin/env bash
# Browser tests: starts `lyceum serve --demo` in a fresh directory on a random loopback port,
# runs tests/browser/*.test.mjs with Node's test runner against it (Debian's Chromium, headless,
# through playwright-core), and stops the server whatever happens.
#
#   bash tests/browser/run.sh [test files…]
#
# Needs node ≥ 20, `npm ci` run in tests/browser, and /usr/bin/chromium (or LYCEUM_CHROMIUM).
# Uses the binary at $CARGO_TARGET_DIR/debug/lyceum, building it only when it is missing (or
# LYCEUM_BIN, used as is). Screenshots and page lists go to <repo>/target/browser/<test>/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lyceum-target}"
bin="${LYCEUM_BIN:-$CARGO_TARGET_DIR/debug/lyceum}"
chromium="${LYCEUM_CHROMIUM:-/usr/bin/chromium}"

[ -x "$chromium" ] || { echo "no Chromium at $chromium (apt-get install chromium)" >&2; exit 1; }
command -v node >/dev/null || { echo "node is not installed" >&2; exit 1; }
[ -d "$here/node_modules/playwright-core" ] ||
  { echo "playwright-core is missing: run (cd tests/browser && npm ci)" >&2; exit 1; }
if [ ! -x "$bin" ]; then
  echo "building lyceum ($bin is missing)"
  (cd "$repo" && cargo build --locked -p lyceum)
fi

# Not rebuilt when present: a binary older than the sources tests the older pages.
echo "lyceum: $bin (built $(date -r "$bin" '+%Y-%m-%d %H:%M:%S'))"

workdir=$(mktemp -d)
log="$workdir/serve.log"
server=""
status=1
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$log" ]; then
    printf '\n----- lyceum serve log (%s) -----\n' "$log" >&2
    cat "$log" >&2
    printf -- '----- end of the server log -----\n' >&2
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free loopback port: the kernel picks one, released just before the server binds it.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
  echo $((20000 + RANDOM % 20000)))
base="http://127.0.0.1:$port"

mkdir "$workdir/run"
(
  cd "$workdir/run"
  # Only these settings: no developer's LYCEUM_* variable or configuration file leaks in.
  while read -r name; do unset "$name"; done < <(compgen -e | grep '^LYCEUM_' || true)
  # Links, redirects and the sandbox's webhooks are built on the public URL: it must be the
  # address the browser uses. Data goes to ./data, in this fresh directory.
  NO_COLOR=1 LYCEUM_ADDR="127.0.0.1:$port" LYCEUM_PUBLIC_URL="$base" exec "$bin" serve --demo
) >"$log" 2>&1 &
server=$!

ready=""
for _ in $(seq 1 120); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$server" 2>/dev/null || break
  sleep 0.5
done
[ -n "$ready" ] || { echo "lyceum serve did not become ready at $base/readyz" >&2; exit 1; }

mkdir -p "$repo/target/browser"
cd "$here"
if [ "$#" -eq 0 ]; then set -- ./*.test.mjs; fi
started=$SECONDS
set +e
LYCEUM_BROWSER_BASE_URL="$base" LYCEUM_CHROMIUM="$chromium" LYCEUM_BROWSER_OUT="$repo/target/browser" \
  node --test --test-reporter=spec "$@"
status=$?
set -e
echo "browser tests: $( [ "$status" -eq 0 ] && echo passed || echo FAILED ) in $((SECONDS - started)) s;" \
  "screenshots and page lists under $repo/target/browser/"
exit "$status"
