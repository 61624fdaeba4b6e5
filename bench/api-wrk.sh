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
# Server CPU seconds (user + system) so far, from /proc: the machine may be shared, so the
# figure that travels is requests per server CPU-second, beside the raw requests/s.
cpu() { awk -v t="$(getconf CLK_TCK)" '{print ($14 + $15) / t}' "/proc/$pid/stat"; }
run() {
  local name=$1 url=$2 before after out reqs
  before=$(cpu)
  out=$(wrk -t2 -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $token" "$url")
  after=$(cpu)
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  echo "== $name: GET $url, $connections connections, $duration"
  echo "$out"
  python3 -c "import sys; r,b,a=map(float,sys.argv[1:]); print(f'server CPU {a-b:.2f} s for {int(r)} requests: {r/max(a-b,1e-9):.0f} requests per server CPU-second')" "$reqs" "$before" "$after"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run "list 20 repositories" "http://127.0.0.1:$port/api/v1/orgs/default/repositories"
run "one organization (token + membership lookups)" "http://127.0.0.1:$port/api/v1/orgs/default"
run "health (no auth, no database)" "http://127.0.0.1:$port/healthz"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
