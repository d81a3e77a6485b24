#!/usr/bin/env bash
# The fault check (tests/fault, the `lyceum-fault` program), run by .ci/run: two `lyceum serve`
# processes on a private PostgreSQL cluster take a webhook storm from the sandbox and the fake
# Stripe (duplicates, forgeries, out of order, both instances at once), one of them is killed
# with SIGKILL mid-storm and started again, the providers redeliver; every order must end
# exactly as its events say, applied once, with balanced books. Then PostgreSQL is stopped as
# in a crash and started again under the running instances: 503 problem+json meanwhile, 200
# again after, without a restart. Prints its figures; fails on any difference.
#
#   bash deploy/fault-check.sh       # builds what is missing; FAULT_SEED=… repeats a run
#
# Needs PostgreSQL's server tools (`initdb`, `pg_ctl`; Debian's `postgresql` package, or
# PG_BIN=…/bin). The private cluster never touches the machine's own server; as root, it runs
# as the `postgres` user. Outside CI a machine without the tools skips, loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/lyceum-target}"

skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true but the fault check cannot run: $1" >&2
    exit 1
  fi
  printf '\n!!!!! FAULT CHECK SKIPPED: %s !!!!!\n\n' "$1" >&2
  exit 0
}

pg_bin="${PG_BIN:-$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null | sort -V | tail -1)}"
if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/initdb" ] || [ ! -x "$pg_bin/pg_ctl" ]; then
  skip "no initdb and pg_ctl (apt-get install postgresql, or set PG_BIN)"
fi
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  skip "running as root, and there is no postgres user to run PostgreSQL as"
fi

# The same command as .ci/run's smoke step, so under CI this builds nothing.
cargo build --locked --workspace --quiet
# The run bounds itself (170 s, then it cleans up and fails); `timeout` is the backstop.
PG_BIN="$pg_bin" LYCEUM_BIN="${LYCEUM_BIN:-$CARGO_TARGET_DIR/debug/lyceum}" \
  timeout -k 10 180 "$CARGO_TARGET_DIR/debug/lyceum-fault"
