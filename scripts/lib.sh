# What the bench scripts share: sourced as `. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"`.
# Builds tenet (release) from the repository's top, sets `tenet` to the binary, `sizes` to the
# arguments (default: 10,000 and 100,000 users) and `work` to a scratch folder removed on exit.
# `run WHAT COMMAND...` prints the command's wall-clock seconds and peak memory (GNU time,
# /usr/bin/time), its stderr kept in "$work/err".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --release --quiet
tenet="$root/target/release/tenet"
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(10000 100000)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
run() {
    local what="$1"
    shift
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || true
    read -r secs kb < <(tail -n 1 "$work/time")
    printf '  %-28s %8s s %7s MB\n' "$what" "$secs" "$((kb / 1024))"
}
