#!/usr/bin/env bash
# The topology of deploy/compose.yaml on loopback ports, for machines without Docker: a fresh
# database on the local PostgreSQL, the migrations, two Lyceum instances sharing it (and one
# assets directory), and a small round-robin proxy in front of them.
#
#   deploy/local-cluster.sh            # start; prints the addresses; Ctrl-C stops everything
#   LYCEUM_BIN=… PG_URL=… deploy/local-cluster.sh
#
# Needs a built binary ($CARGO_TARGET_DIR/debug/lyceum by default), python3 and psql. The
# database is dropped when the cluster stops. Prints `cluster ready: PROXY A B` once all
# three answer, so a test can wait for that line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin="${LYCEUM_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/lyceum-target}/debug/lyceum}"
pg="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
[ -x "$bin" ] || { echo "no lyceum binary at $bin (cargo build -p lyceum)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
proxy_port=${PROXY_PORT:-$(free_port)}
port_a=$(free_port)
port_b=$(free_port)
db="lyceum_cluster_$$"
work=$(mktemp -d)
pids=()

stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop EXIT INT TERM

psql "$pg/postgres" -qc "CREATE DATABASE $db" >/dev/null
export DATABASE_URL="$pg/$db"
export LYCEUM_PUBLIC_URL="http://127.0.0.1:$proxy_port"
export LYCEUM_ASSETS_URL="$work/assets"
export LYCEUM_CONTENT_KEY="${LYCEUM_CONTENT_KEY:-local-cluster-content-key-0123456789abcdef}"
# Every instance seals and opens gateway credentials with the same key ring.
LYCEUM_SECRETS_KEY="${LYCEUM_SECRETS_KEY:-$("$bin" secrets new-key)}"
export LYCEUM_SECRETS_KEY
export LYCEUM_SANDBOX="${LYCEUM_SANDBOX:-all}"
mkdir -p "$work/assets" "$work/a" "$work/b"

"$bin" migrate >"$work/migrate.log" 2>&1 || { cat "$work/migrate.log" >&2; exit 1; }
for name in a b; do
  port_var="port_$name"
  (cd "$work/$name" && LYCEUM_ADDR="127.0.0.1:${!port_var}" LYCEUM_DATA_DIR="$work/$name" \
    exec "$bin" serve >"$work/$name.log" 2>&1) &
  pids+=($!)
done
python3 "$here/tcp-proxy.py" "$proxy_port" "$port_a" "$port_b" &
pids+=($!)

for port in "$port_a" "$port_b" "$proxy_port"; do
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || {
    echo "port $port never became ready" >&2
    for log in "$work"/*.log; do echo "--- $log" >&2; tail -30 "$log" >&2; done
    exit 1; }
done
echo "cluster database: $DATABASE_URL"
echo "cluster ready: $proxy_port $port_a $port_b (logs in $work)"
wait "${pids[@]}"
