#!/usr/bin/env bash
# Times building a bundle and answering from it against answering from the sources, on generated
# districts (see BENCHMARKS.md, "Bundles").
#
#   scripts/bench-bundle.sh                  # 10,000 and 100,000 users
#   scripts/bench-bundle.sh 1000000          # other sizes
#
# Each size: `tenet gen`, `tenet build`, then `tenet decide` and `tenet check --bundle` from the
# bundle and `tenet decide` from the sources (wall-clock seconds and peak memory, GNU time), and
# `tenet serve` from each: the seconds from start to its `listening on` line, three times.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# Seconds from starting `tenet serve ARGS...` to its `listening on` line.
ready() {
    local start now
    start=$(date +%s%N)
    "$tenet" serve --addr 127.0.0.1:0 "$@" 2>"$work/serve" &
    local pid=$!
    until grep -q '^listening on' "$work/serve" 2>/dev/null; do
        kill -0 "$pid" 2>/dev/null || { cat "$work/serve"; return 1; }
        sleep 0.01
    done
    now=$(date +%s%N)
    kill "$pid" && wait "$pid" 2>/dev/null || true
    echo "$(( (now - start) / 1000000 )) ms"
}
for n in "${sizes[@]}"; do
    echo "== $n users"
    "$tenet" gen --users "$n" --out "$work/d$n" >/dev/null 2>&1
    upn=$(grep -m1 'upn:' "$work/d$n/directory.yaml" | awk '{print $3}')
    run "build" "$tenet" build --policies "$work/d$n" --out "$work/d$n.bundle" -q
    printf '  %-28s %8s MB\n' "bundle size" "$(( $(stat -c %s "$work/d$n.bundle") / 1000000 ))"
    run "check --bundle" "$tenet" check --bundle "$work/d$n.bundle"
    run "decide --bundle" "$tenet" decide --bundle "$work/d$n.bundle" --user "$upn" --decision chat_with_guardians
    run "decide --policies" "$tenet" decide --policies "$work/d$n" --user "$upn" --decision chat_with_guardians
    for i in 1 2 3; do
        printf '  %-28s %s\n' "serve ready (bundle)" "$(ready --bundle "$work/d$n.bundle")"
        printf '  %-28s %s\n' "serve ready (sources)" "$(ready --policies "$work/d$n")"
    done
done
