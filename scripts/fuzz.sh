#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (one binary, AddressSanitizer) and runs them.
#   scripts/fuzz.sh [SECONDS] [TARGET…]   SECONDS per target (default 600); every target when
#                                          none is named: lines csv prom json yaml expression regex state
# Each target's corpus grows in .build-fuzz/corpus/TARGET, seeded from Fuzz/corpus/TARGET; a
# crash leaves crash-* in .build-fuzz/TARGET/ and fails the script. CI runs a 30-second smoke of
# every target; the closing notes report 10-minute runs (Fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(lines csv prom json yaml expression regex state)
out=$PWD/.build-fuzz
supp=$PWD/Fuzz/lsan.supp
mkdir -p "$out"
# The whole package graph (SLAWatchCore, SLAWatchStore, Yams, GRDB) instrumented for coverage;
# -parse-as-library because libFuzzer provides main.
(cd Fuzz && swift build -c release --scratch-path "$out/build" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >"$out/build.log" 2>&1) \
    || { tail -40 "$out/build.log"; echo "fuzz build failed" >&2; exit 1; }
bin=$(cd Fuzz && swift build -c release --scratch-path "$out/build" --show-bin-path)/slawatch-fuzz
max_len() {
    case $1 in
        lines | csv | prom | json) echo 65600 ;; # lines may be 64 KiB (max_line_bytes)
        yaml) echo 16384 ;;
        state) echo 8192 ;;
        *) echo 1024 ;;
    esac
}
status=0
printf '%-11s %12s %10s %8s %8s %s\n' target executions "exec/s" corpus cov result
for t in "${targets[@]}"; do
    mkdir -p "$out/corpus/$t" "$out/$t"
    cp -n Fuzz/corpus/"$t"/* "$out/corpus/$t/" 2>/dev/null || true
    log="$out/$t/fuzz.log"
    rc=0
    # Leaks fail a target, but Foundation's own in NSRegularExpression (Fuzz/lsan.supp).
    (cd "$out/$t" && LSAN_OPTIONS=suppressions=$supp SLAWATCH_FUZZ_TARGET=$t "$bin" \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=4096 \
        -print_final_stats=1 "$out/corpus/$t" >"$log" 2>&1) || rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
    files=$(find "$out/corpus/$t" -type f | wc -l)
    result=ok
    if [ $rc -ne 0 ]; then
        result="FAILED (exit $rc; $log)"
        status=1
        grep -E "ERROR|==[0-9]+==|Fatal error|precondition|SUMMARY|Test unit written" "$log" | head -20 >&2 || true
    fi
    printf '%-11s %12s %10s %8s %8s %s\n' "$t" "${runs:-?}" "${speed:-?}" "$files" "${cov:-?}" "$result"
done
exit $status
