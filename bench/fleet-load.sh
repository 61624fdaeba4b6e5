#!/usr/bin/env bash
# Fleet load: N simulated machines enroll and report (HMAC-signed, through the real HTTP path,
# several keep-alive connections) to a local release `serve`, on embedded SQLite and then on
# PostgreSQL; then the fleet summary and the full report are timed.
# Usage: bench/fleet-load.sh [machines=100000] [connections=32] [sqlite|postgres|both=both]
# Run from the repository root. PostgreSQL: DOCKWATCH_TEST_POSTGRES_URL's server (a fresh
# database is created and dropped).
set -euo pipefail
machines=${1:-100000}
connections=${2:-32}
which=${3:-both}
cargo build --release -q --bin dockwatch --example fleet-load
bin=$PWD/target/release/dockwatch
load=$PWD/target/release/examples/fleet-load
pg_base=${DOCKWATCH_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}

run() {
  local name=$1 url=$2 work port token pid
  work=$(mktemp -d)
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  token=bench-$RANDOM$RANDOM$RANDOM
  DOCKWATCH_BOOTSTRAP_TOKEN=$token DOCKWATCH_DATABASE_URL=$url "$bin" -q serve \
    --listen "127.0.0.1:$port" --data-dir "$work/data" --max-connections 16 2>"$work/serve.log" &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  cpu() { awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' "/proc/$pid/stat"; }
  local before after
  before=$(cpu)
  echo "== $name: $machines machines, $connections connections, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  "$load" --server "http://127.0.0.1:$port" --token "$token" --machines "$machines" \
    --connections "$connections" --server-pid "$pid" || { tail -20 "$work/serve.log"; }
  after=$(cpu)
  echo "server CPU: $(python3 -c "print(f'{$after-$before:.1f}')") s; load average after $(cut -d' ' -f1-3 /proc/loadavg)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}

if [[ $which != postgres ]]; then
  run "SQLite (embedded)" ""
fi
if [[ $which != sqlite ]]; then
  db=dw_bench_$RANDOM$RANDOM
  psql -q "$pg_base" -c "CREATE DATABASE $db"
  trap 'psql -q "$pg_base" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
  run "PostgreSQL" "${pg_base%/*}/$db"
fi
