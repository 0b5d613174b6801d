#!/usr/bin/env bash
# Load benchmark of `tenet serve` on loopback with wrk (a real HTTP load generator).
# Usage: scripts/bench-server.sh [seconds] [connections]
# Measures single-decision requests/s and batch decisions/s with p50/p99 latency on the bundled
# example district, and prints the size of each response so requests/s and decisions/s can be
# compared fairly (a decision's JSON size depends on the decision, not on batching). Installs wrk
# from Debian's packages when it is missing. Results go to stdout; BENCHMARKS.md records a run.
# Fails if any response was not 2xx or any socket error occurred.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
conns="${2:-32}"
batch_size=100
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/tenet"

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Port 0: the server picks a free port and names it on its first line on stderr. The rest of
# stderr (one JSON log line per request) is read and thrown away.
"$bin" serve --addr 127.0.0.1:0 --log-format json 2> >(
  IFS= read -r line
  printf '%s\n' "$line" > "$tmp/announced.part" && mv "$tmp/announced.part" "$tmp/announced"
  exec cat > /dev/null
) &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/announced" ] && break; sleep 0.1; done
addr=$(sed -n 's|^listening on http://||p' "$tmp/announced" 2>/dev/null || true)
if [ -z "$addr" ]; then echo "error: the server did not say where it listens" >&2; exit 1; fi
url="http://$addr"
curl -sf "$url/healthz" >/dev/null

query() { printf '{"user": "ana.rivera@lakeside.edu", "decision": "%s"}' "$1"; }
# A batch body of $batch_size copies of one query.
batch() {
  printf '{"queries": ['
  for i in $(seq $batch_size); do
    [ "$i" -gt 1 ] && printf ','
    query "$1"
  done
  printf ']}'
}
# A wrk script that POSTs the body in file $1.
lua() { printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [[%s]]\n' "$(cat "$1")"; }

query chat_with_guardians > "$tmp/single.json"
batch chat_with_guardians > "$tmp/batch-same.json"
batch presence_visible_to_guardians > "$tmp/batch.json"
for body in single batch-same batch; do lua "$tmp/$body.json" > "$tmp/$body.lua"; done

# Response sizes, measured: say what each request and each decision carries.
size() { curl -sf "$url$1" -H 'Content-Type: application/json' --data-binary @"$2" | wc -c; }
single_bytes=$(size /v1/decide "$tmp/single.json")
same_bytes=$(size /v1/decide/batch "$tmp/batch-same.json")
batch_bytes=$(size /v1/decide/batch "$tmp/batch.json")
echo "== response sizes: single chat_with_guardians $single_bytes B;" \
  "batch of $batch_size chat_with_guardians $same_bytes B ($((same_bytes / batch_size)) B per decision);" \
  "batch of $batch_size presence_visible_to_guardians $batch_bytes B ($((batch_bytes / batch_size)) B per decision)"

# Runs wrk; fails on any non-2xx response (wrk's "Non-2xx or 3xx responses" line counts
# statuses over 399) or socket error (connect, read, write, timeout).
run() {
  local title=$1 script=$2 path=$3
  echo "== $title: $conns connections, 2 threads, ${secs}s"
  wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$script" "$url$path" | tee "$tmp/wrk.out"
  if grep -q -e '^ *Non-2xx' -e '^ *Socket errors' "$tmp/wrk.out"; then
    echo "error: $title: not every request got a 2xx response" >&2
    exit 1
  fi
}
run "single decisions (chat_with_guardians, $single_bytes B each)" "$tmp/single.lua" /v1/decide
run "batches of $batch_size chat_with_guardians ($((same_bytes / batch_size)) B per decision; decisions/s = requests/s x $batch_size)" \
  "$tmp/batch-same.lua" /v1/decide/batch
run "batches of $batch_size presence_visible_to_guardians ($((batch_bytes / batch_size)) B per decision; decisions/s = requests/s x $batch_size)" \
  "$tmp/batch.lua" /v1/decide/batch
