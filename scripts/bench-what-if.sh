#!/usr/bin/env bash
# Times what-if, diff and fix against one build, on generated districts (see BENCHMARKS.md).
#
#   scripts/bench-what-if.sh                 # 10,000 and 100,000 users
#   scripts/bench-what-if.sh 1000 20000      # other sizes
#
# Each size: `tenet gen`, then `tenet check` (one build), `tenet what-if` with a script that
# changes nothing (two builds and the comparison of every decision), with one that changes a
# custom external access policy (the same plus the report, text), and `tenet diff` between a
# snapshot and the policies (a build, a snapshot of every decision, the comparison), and `tenet
# fix` for one denied teacher and for every teacher (a build, the search, and a verification of
# each suggestion: a compiled table and a diff for those that reach past the user). Prints
# wall-clock seconds and peak memory; needs GNU time (/usr/bin/time).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# Its own `run`: the first line of what the command printed, too.
echo 'Set-CsExternalAccessPolicy -Identity Tag:P0 -EnableTeamsConsumerAccess $true' >"$work/same.ps1"
echo 'Set-CsExternalAccessPolicy -Identity Tag:P0 -EnableTeamsConsumerAccess $false' >"$work/change.ps1"
run() {
    local what="$1"
    shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>/dev/null || true
    read -r secs kb < <(tail -n 1 "$work/time")
    printf '  %-34s %7s s %7s MB  %s\n' "$what" "$secs" "$((kb / 1024))" "$(head -c 70 "$work/out" | head -1)"
}
for n in "${sizes[@]}"; do
    echo "== $n users"
    "$tenet" gen --users "$n" --out "$work/d$n" 2>/dev/null
    run "check (one build)" "$tenet" check "$work/d$n"
    run "what-if, nothing changes" "$tenet" what-if --policies "$work/d$n" --change "$work/same.ps1"
    run "what-if, a policy setting" "$tenet" what-if --policies "$work/d$n" --change "$work/change.ps1"
    "$tenet" snapshot --policies "$work/d$n" --out "$work/d$n.snap" 2>/dev/null
    run "snapshot (build + every decision)" "$tenet" snapshot --policies "$work/d$n"
    run "diff, snapshot vs policies" "$tenet" diff --before "$work/d$n.snap" --after "$work/d$n"
    # The first teacher chat_with_guardians denies.
    teacher=""
    for i in $(seq 0 200); do
        if ! "$tenet" decide --policies "$work/d$n" --user "teacher$i@district.edu" --decision chat_with_guardians >/dev/null 2>&1; then
            teacher="teacher$i@district.edu"
            break
        fi
    done
    run "fix, one teacher ($teacher)" "$tenet" fix --policies "$work/d$n" --user "$teacher" --decision chat_with_guardians
    run "fix, one teacher, as JSON" "$tenet" fix --policies "$work/d$n" --user "$teacher" --decision chat_with_guardians --format json
    run "fix, every teacher" "$tenet" fix --policies "$work/d$n" --role teacher --decision chat_with_guardians
    rm -rf "$work/d$n" "$work/d$n.snap"
done
