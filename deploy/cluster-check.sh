#!/usr/bin/env bash
# Checks deploy/local-cluster.sh end to end: the proxy serves, both instances share one
# database, and a change made through instance A reaches instance B's caches at once — a
# storefront suspended through A stops being served by B within a second, not when B's cache
# entry expires (30 s).
#
#   bash deploy/cluster-check.sh     # uses $LYCEUM_BIN or $CARGO_TARGET_DIR/debug/lyceum
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin="${LYCEUM_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/lyceum-target}/debug/lyceum}"
log=$(mktemp)
LYCEUM_SECRETS_KEY=$("$bin" secrets new-key)
export LYCEUM_SECRETS_KEY
bash "$here/local-cluster.sh" >"$log" 2>&1 &
cluster=$!
trap 'kill $cluster 2>/dev/null; wait $cluster 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 240); do
  grep -q "cluster ready" "$log" && break
  kill -0 $cluster 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.5
done
read -r proxy a b < <(grep "cluster ready" "$log" | awk '{print $3, $4, $5}')
[ -n "$b" ] || { echo "the cluster did not start" >&2; cat "$log" >&2; exit 1; }
database=$(sed -n 's/^cluster database: //p' "$log")
echo "proxy :$proxy, instances :$a and :$b, database $database"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
call() { # method port path token [body]
  curl -fsS -X "$1" "http://127.0.0.1:$2$3" -H 'content-type: application/json' \
    -H "authorization: Bearer $4" -d "${5:-{\}}"
}
status() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2"; }

# The proxy spreads requests over both instances; each answers ready on the shared database.
for _ in 1 2 3 4; do curl -fsS "http://127.0.0.1:$proxy/readyz" >/dev/null; done

# An admin (made with the CLI against the same database), an owner and a storefront, all
# through instance A.
DATABASE_URL="$database" "$bin" admin create --email admin@cluster.test --password 'cluster admin pass' >/dev/null
login() {
  curl -fsS "http://127.0.0.1:$a/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" | json "['token']"
}
admin=$(login admin@cluster.test 'cluster admin pass')
curl -fsS "http://127.0.0.1:$a/api/v1/auth/register" -H 'content-type: application/json' \
  -d '{"email":"owner@cluster.test","password":"cluster owner pass","name":"Owner"}' >/dev/null
owner=$(login owner@cluster.test 'cluster owner pass')
call POST "$a" /api/v1/tenants "$owner" '{"slug":"cluster","name":"Cluster School","currency":"USD"}' >/dev/null
call POST "$a" /api/v1/admin/tenants/cluster/approve "$admin" >/dev/null

# B serves the storefront (and caches it); A suspends it; B stops serving it at once.
[ "$(status "$b" /s/cluster)" = 200 ] || { echo "instance B does not serve the approved storefront" >&2; exit 1; }
[ "$(status "$b" /s/cluster)" = 200 ]
call POST "$a" /api/v1/admin/tenants/cluster/suspend "$admin" >/dev/null
started=$(date +%s%N)
for _ in $(seq 1 50); do
  [ "$(status "$b" /s/cluster)" = 404 ] && break
  sleep 0.02
done
[ "$(status "$b" /s/cluster)" = 404 ] || { echo "instance B still serves a storefront suspended through A" >&2; exit 1; }
echo "a suspension through A reached B after $(( ($(date +%s%N) - started) / 1000000 )) ms"
echo "cluster check passed"
