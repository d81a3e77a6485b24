#!/usr/bin/env bash
# The OpenAPI document tells the truth: schemathesis, as an outside client would, over the
# served document of the debug binary with demo data, signed in as the demo instructor. Bounded
# in time (LYCEUM_SCHEMATHESIS_SECS, default 180); any finding fails. `.ci/run` calls it after
# the tests; it also runs alone. The venv lives outside the clone and is reused.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lyceum-target}"
venv="${LYCEUM_CI_VENV:-$HOME/.cache/lyceum-venv}"
budget="${LYCEUM_SCHEMATHESIS_SECS:-180}"

if [ "$("$venv/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --locked -p lyceum --bin lyceum
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
(cd "$work" && LYCEUM_ADDR="127.0.0.1:$port" exec "$CARGO_TARGET_DIR/debug/lyceum" serve --demo >"$work/serve.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null || { echo "lyceum serve did not become ready" >&2; cat "$work/serve.log" >&2; exit 1; }

# The demo instructor owns the demo storefront, so the studio operations are reached too.
token=$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"instructor@demo.lyceum.test","password":"demo-instructor-pass"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# `revoke_token` is left out: it would revoke the very token the run signs in with.
# Run from the scratch directory: schemathesis and hypothesis leave their caches in the cwd.
status=0
cd "$work"
NO_COLOR=1 timeout $((budget + 60)) "$venv/bin/schemathesis" run "$base/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection \
  --header "Authorization: Bearer $token" \
  --exclude-operation-id revoke_token \
  --max-examples 100 \
  --max-time "$budget" \
  --request-timeout 10 || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis found a broken contract (exit $status); the end of the server log:" >&2
  tail -50 "$work/serve.log" >&2
fi
exit "$status"
