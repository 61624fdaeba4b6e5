#!/usr/bin/env bash
# Activity-log ingest and search benchmark through the store's real write path (group commit).
# Usage: bench/activity-log.sh [events=10000000] [sqlite|postgres|both]; from the repository root.
# PostgreSQL: DOCKWATCH_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test); a
# fresh database is made and dropped. Results go to docs/benchmarks.md by hand.
set -euo pipefail
events=${1:-10000000}
which=${2:-both}
cargo build --release -q -p dockwatch-store --example event_bench
bin=$PWD/target/release/examples/event_bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ $which == sqlite || $which == both ]]; then
  echo "== SQLite ($work/sqlite)"
  "$bin" --events "$events" --data-dir "$work/sqlite" --batch 5000 --writers 1
  du -sh "$work/sqlite"
  rm -rf "$work/sqlite"
fi
if [[ $which == postgres || $which == both ]]; then
  base=${DOCKWATCH_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
  db=dw_bench_$RANDOM$RANDOM
  psql "$base" -qc "CREATE DATABASE $db"
  trap 'psql "$base" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rm -rf "$work"' EXIT
  echo "== PostgreSQL ($db)"
  "$bin" --events "$events" --database-url "${base%/*}/$db" --batch 5000 --writers 4
  psql "${base%/*}/$db" -Atc "SELECT pg_size_pretty(pg_database_size('$db'))"
fi
