#!/usr/bin/env bash
# Authenticated API reads against a local `serve` on embedded SQLite, measured with wrk.
# Usage: bench/api-wrk.sh [duration=20s] [connections=64]; run from the repository root.
set -euo pipefail
duration=${1:-20s}
connections=${2:-64}
cargo build --release -q
bin=$PWD/target/release/dockwatch
work=$(mktemp -d)
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
token=bench-$RANDOM$RANDOM$RANDOM
DOCKWATCH_BOOTSTRAP_TOKEN=$token "$bin" -q serve --listen "127.0.0.1:$port" --data-dir "$work/data" 2>"$work/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
export DOCKWATCH_SERVER=http://127.0.0.1:$port DOCKWATCH_TOKEN=$token
for i in $(seq 1 20); do "$bin" repo create "repo-$i" --description "benchmark repository $i" >/dev/null; done
url=http://127.0.0.1:$port/api/v1/orgs/default/repositories
echo "== GET $url (20 repositories), $connections connections, $duration"
wrk -t2 -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $token" "$url"
echo "== GET /api/v1/orgs/default (token + membership lookups only)"
wrk -t2 -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/orgs/default"
