#!/usr/bin/env bash
# Every performance figure of docs/performance.md, side by side with its peer (netdata's statsd)
# or the physical limit (a raw socket reader), measured in one run on this machine:
#   scripts/bench.sh [--quick] [--runs N] [--events N] [--only stream,datagram,…] [--write-docs]
# Installs the peers (scripts/ensure-deps.sh --bench: netdata-core, valgrind), builds slawatch and
# Benchmarks/ in release mode and Benchmarks/bench_io.c, then runs Benchmarks/bench.py, which
# prints a Markdown table (min / median / max of the runs). --write-docs puts that table into
# docs/performance.md between its bench.sh markers. A full run takes about 15 minutes (the
# 100,000-instance start-up writes a 3 GiB state); --quick about 4. Not part of CI: CI gates on
# counts (scripts/check-counts.sh), never on wall or CPU time.
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
docs=""
while [ $# -gt 0 ]; do
    case "$1" in
        --write-docs) docs="--write-docs=docs/performance.md" ;;
        *) args+=("$1") ;;
    esac
    shift
done
scripts/ensure-deps.sh --bench
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
(cd Benchmarks && swift build -c release --product make-state >/dev/null)
benchbin=$(cd Benchmarks && swift build -c release --show-bin-path)
io=$(mktemp -d)/bench_io
cc -O2 -o "$io" Benchmarks/bench_io.c
exec python3 Benchmarks/bench.py --slawatch "$bin/slawatch" --bench-io "$io" --make-state "$benchbin/make-state" \
    ${docs:+"$docs"} ${args[@]+"${args[@]}"}
