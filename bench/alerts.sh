#!/usr/bin/env bash
# Alert deliveries end to end (outbox -> worker -> signed webhook -> local receiver), release
# build, on embedded SQLite and on PostgreSQL. See docs/benchmarks.md, section "Alerts".
# Usage: bench/alerts.sh [events=20000] [rate=5000] [seconds=10]; run from the repository root.
# PostgreSQL: DOCKWATCH_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test); a
# database is created for the run and dropped afterwards.
set -euo pipefail
events=${1:-20000}
rate=${2:-5000}
seconds=${3:-10}
cargo build --release -q -p dockwatch-server --example alert_bench
bin=$PWD/target/release/examples/alert_bench
echo "== $(date -u +%FT%TZ), $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" --events "$events" --rate "$rate" --seconds "$seconds"
base=${DOCKWATCH_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
db=dw_alert_bench_$$
psql "$base" -qc "CREATE DATABASE $db"
trap 'psql "$base" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
echo "== load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" --database-url "${base%/*}/$db" --events "$events" --rate "$rate" --seconds "$seconds"
