#!/usr/bin/env bash
# Load benchmark of `tenet serve` on loopback with wrk (a real HTTP load generator).
# Usage: scripts/bench-server.sh [seconds] [connections]
# Measures single-decision requests/s and batch decisions/s with p50/p99 latency on the bundled
# example district. Installs wrk from Debian's packages when it is missing. Results go to stdout;
# BENCHMARKS.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-32}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet
port=18799
target/release/tenet serve --addr "127.0.0.1:$port" --log-format json 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

tmp=$(mktemp -d)
cat > "$tmp/single.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"user": "ana.rivera@lakeside.edu", "decision": "chat_with_guardians"}'
LUA
batch_size=100
{
  printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[{"queries": ['
  for i in $(seq $batch_size); do
    [ "$i" -gt 1 ] && printf ','
    printf '{"user": "ana.rivera@lakeside.edu", "decision": "presence_visible_to_guardians"}'
  done
  printf ']}]]\n'
} > "$tmp/batch.lua"

echo "== single decisions: $conns connections, 2 threads, ${secs}s"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$tmp/single.lua" "http://127.0.0.1:$port/v1/decide"
echo "== batches of $batch_size decisions: $conns connections, 2 threads, ${secs}s (decisions/s = requests/s x $batch_size)"
wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$tmp/batch.lua" "http://127.0.0.1:$port/v1/decide/batch"
rm -rf "$tmp"
