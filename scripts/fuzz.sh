#!/usr/bin/env bash
# A short fuzzing run of every cargo-fuzz target in fuzz/ (see fuzz/README.md).
#
#   scripts/fuzz.sh                     # every target, 60 seconds each
#   scripts/fuzz.sh 300                 # every target, 300 seconds each
#   scripts/fuzz.sh 120 policy import_teams   # only the targets named
#
# Needs the nightly toolchain; installs cargo-fuzz if it is missing. Builds and runs at the lowest
# priority (nice 19), builds on one job unless CARGO_BUILD_JOBS says otherwise, into fuzz/target.
# Each target's corpus, fuzz/corpus/TARGET, is seeded from the sample files in policies/ and
# tests/fixtures/ and keeps what the fuzzer adds between runs; a crash or timeout is written to
# fuzz/artifacts/TARGET/ and the log of each run to fuzz/logs/TARGET.log (all git-ignored).
# FUZZ_SANITIZER picks cargo-fuzz's sanitizer (default none: tenet forbids unsafe code, and a
# run without one does several times as many executions; `address` checks the dependencies'
# unsafe code too). Exits non-zero if any target found a crash or a timeout.
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
shift || true

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz="$root/fuzz"
cd "$fuzz"

all_targets=(policy directory change import_teams import_graph import_sds_v1 import_sds_v2 import_approvals import_supplement)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
    if [[ ! " ${all_targets[*]} " == *" $t "* ]]; then
        echo "unknown target \`$t\` (targets: ${all_targets[*]})" >&2
        exit 2
    fi
done

export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
sanitizer="${FUZZ_SANITIZER:-none}"
low=(nice -n 19)

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "installing the nightly toolchain (cargo-fuzz needs it)" >&2
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    "${low[@]}" cargo install cargo-fuzz --locked
fi

# --- seed corpora ------------------------------------------------------------------------------

fixtures="$root/tests/fixtures"
exports="$fixtures/exports"

# seed TARGET FILE...: copies files into the target's corpus as they are. The import targets
# (`import_*`) read a file name on the first line, then the file's bytes: theirs get the name.
seed() {
    local target="$1" f
    shift
    mkdir -p "corpus/$target"
    for f in "$@"; do
        [ -f "$f" ] || continue
        {
            case "$target" in import_*) printf '%s\n' "$(basename "$f")" ;; esac
            cat "$f"
        } >"corpus/$target/seed-$(seed_name "$f")"
    done
}

seed_name() {
    local rel="${1#"$root"/}"
    printf '%s' "${rel//\//_}"
}

shopt -s nullglob

seed policy "$root"/policies/*/*.tenet "$root"/policies/*/*/*.tenet \
    "$fixtures"/check/*.tenet "$fixtures"/check/base/*.tenet \
    "$fixtures"/cli/*.tenet "$fixtures"/cli/*/*.tenet
seed directory "$root"/policies/examples/*/directory.yaml \
    "$fixtures"/check/*.yaml "$fixtures"/check/base/directory.yaml "$fixtures"/cli/*/directory.yaml

seed change "$root"/tests/fixtures/changes/*.ps1
seed import_teams "$exports"/lakeside/teams/*.json "$exports"/errors/teams-*/*.json
seed import_graph "$exports"/lakeside/graph/*.json "$exports"/lakeside/graph-contacts/*.json \
    "$exports"/approvals/graph*/*.json "$exports"/errors/graph-*/*.json
sds_v1=() sds_v2=()
for f in "$exports"/lakeside/sds-v1/*/*.csv "$exports"/lakeside/sds-v2.1/*.csv "$exports"/errors/sds-*/*.csv; do
    case "$(basename "$f" .csv)" in
        school | section | student | teacher | studentenrollment | teacherroster | user | guardianrelationship) sds_v1+=("$f") ;;
        *) sds_v2+=("$f") ;;
    esac
done
seed import_sds_v1 "${sds_v1[@]}"
seed import_sds_v2 "${sds_v2[@]}"
seed import_approvals "$exports"/approvals/approvals.csv "$exports"/errors/approvals-*/*.csv
seed import_supplement "$exports"/lakeside/supplement/*.yaml "$exports"/approvals/*.yaml

# --- build and run -----------------------------------------------------------------------------

# The import targets write their folders here; removed when the run ends.
export TMPDIR="$fuzz/target/tmp"
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR" logs
trap 'rm -rf "$TMPDIR"' EXIT

"${low[@]}" cargo +nightly fuzz build --sanitizer "$sanitizer" --target-dir target

failed=()
for t in "${targets[@]}"; do
    echo "=== $t: ${seconds}s"
    if "${low[@]}" cargo +nightly fuzz run "$t" --sanitizer "$sanitizer" --target-dir target -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 2>&1 | tee "logs/$t.log"; then
        :
    else
        failed+=("$t")
    fi
    # libFuzzer's closing lines: coverage and corpus at the end, then executions and seconds.
    grep -E '[[:space:]]DONE[[:space:]]' "logs/$t.log" | tail -1 || true
    grep -E '^Done [0-9]+ runs' "logs/$t.log" | tail -1 || true
done

echo
if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashes or timeouts in: ${failed[*]} (inputs in fuzz/artifacts/, logs in fuzz/logs/)" >&2
    exit 1
fi
echo "no crash or timeout in ${#targets[@]} targets, ${seconds}s each"
