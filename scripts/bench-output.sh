#!/usr/bin/env bash
# Times `tenet table` in every format, `summary`, `who` and `report`, and the report's opening in
# headless Chromium, on generated districts (see BENCHMARKS.md, "Output at district scale").
#
#   scripts/bench-output.sh                  # 10,000 and 100,000 users
#   scripts/bench-output.sh 1000000          # other sizes (1,000,000: CSV and NDJSON only)
#
# Each size: `tenet gen`, then `tenet check` (one build: the floor every command stands on),
# the table written to /dev/null in each format, the counts, and the report. Prints wall-clock
# seconds and peak memory (GNU time, /usr/bin/time), and for the report its size and the time
# from navigation to a drawn page that the page itself measures (`data-ready-ms`), read by
# Chromium's --dump-dom (Debian: chromium), twice.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
for n in "${sizes[@]}"; do
    echo "== $n users"
    "$tenet" gen --users "$n" --out "$work/d$n" 2>/dev/null
    d="$work/d$n"
    run "check (one build)" "$tenet" check --policies "$d"
    formats=(csv ndjson)
    [ "$n" -le 100000 ] && formats=(text csv json ndjson)
    for f in "${formats[@]}"; do
        run "table --format $f" "$tenet" table --policies "$d" --format "$f"
    done
    [ "$n" -le 100000 ] || continue
    run "summary" "$tenet" summary --policies "$d"
    run "who --decision parents_app" "$tenet" who --policies "$d" --decision parents_app
    run "report --fixes 0" "$tenet" report --policies "$d" --out "$work/r$n.html" --fixes 0
    run "report" "$tenet" report --policies "$d" --out "$work/r$n.html"
    printf '  %-28s %8s MB\n' "report size" "$(($(stat -c %s "$work/r$n.html") / 1000000))"
    if command -v chromium >/dev/null; then
        for i in 1 2; do
            ms=$(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
                --disable-background-networking --disable-component-update --disable-sync \
                --user-data-dir="$work/profile" --dump-dom "file://$work/r$n.html" 2>/dev/null |
                grep -o 'data-ready-ms="[0-9]*"' | grep -o '[0-9]*' || echo '?')
            printf '  %-28s %8s ms\n' "report drawn in Chromium ($i)" "$ms"
        done
    fi
done
