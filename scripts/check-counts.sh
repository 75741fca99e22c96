#!/usr/bin/env bash
# CI's performance gate: counts that do not depend on a noisy machine, each against a ceiling kept
# in Benchmarks/counts.txt (raise a ceiling only with the reason in the commit):
#  - instructions per event of the ingest hot path (framing and parsing; and with the engine,
#    1,000 count objectives), per instance of one commit's take-and-encode, and per instance
#    of the same commit written through StateStore (the SQLite transaction too), counted by
#    valgrind's callgrind inside the measured function only (repeatable for the same binary and
#    input: SWIFT_DETERMINISTIC_HASHING=1);
#  - allocations per event on the hot path in the steady state (ordo-one/malloc-interposer).
# Never wall or CPU time. usage: scripts/check-counts.sh [--update]  (--update rewrites the
# ceilings as the measured values plus 3 %)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || scripts/ensure-deps.sh
(cd Benchmarks && swift build -c release --product ingest-instructions >/dev/null \
    && swift build -c release --product ingest-allocations >/dev/null)
bin=$(cd Benchmarks && swift build -c release --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF 5 of Swift binaries: count on a copy without debug info.
strip --strip-debug -o "$work/ingest-instructions" "$bin/ingest-instructions"
count() { # MODE EVENTS → instructions in the measured function, and the units it measured
    SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --toggle-collect='*measuredRun*' \
        --toggle-collect='*measuredCommit*' --toggle-collect='*measuredStore*' --callgrind-out-file="$work/cg.out" \
        "$work/ingest-instructions" "$1" "$2" > "$work/out" 2> "$work/err"
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/err")
    units=$(awk '{print $2}' "$work/out")
    echo $((ir / units))
}
declare -A measured
measured[parse_instructions_per_event]=$(count parse 200000)
measured[ingest_instructions_per_event]=$(count ingest 200000)
measured[commit_instructions_per_instance]=$(count commit 100000)
measured[store_instructions_per_instance]=$(count store 100000)
alloc=$(LD_PRELOAD="$bin/libMallocInterposerSwift.so" "$bin/ingest-allocations" 1000000 1000 | sed -n 's/.*mallocs per event: \([0-9.]*\).*/\1/p')
measured[mallocs_per_10000_events]=$(awk -v a="$alloc" 'BEGIN { printf "%d", a * 10000 + 0.5 }')
if [ "${1:-}" = "--update" ]; then
    {
        echo "# Ceilings for scripts/check-counts.sh (measured + 3 %). Raise one only with the reason."
        for k in "${!measured[@]}"; do echo "$k $(( measured[$k] * 103 / 100 + 1 ))"; done | sort
    } > Benchmarks/counts.txt
    cat Benchmarks/counts.txt
    exit 0
fi
fail=0
while read -r name ceiling; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    value=${measured[$name]:-}
    [ -n "$value" ] || { echo "counts: $name is not measured" >&2; fail=1; continue; }
    if [ "$value" -gt "$ceiling" ]; then
        echo "counts: $name $value is above its ceiling $ceiling" >&2
        fail=1
    else
        echo "counts: $name $value (ceiling $ceiling)"
    fi
done < Benchmarks/counts.txt
exit "$fail"
