#!/usr/bin/env bash
# Ingest benchmark, side by side with netdata's statsd plugin (docs/performance.md).
#   scripts/bench.sh [EVENTS]     (default 2,000,000)
# Builds slawatch in release mode, starts it on a temporary config with 1,000 objectives over the
# benchmark metrics (so every event updates a window), runs `slawatch bench` with 1,000 and
# 100,000 series and the datagram socket, then (when netdata is installed: apt-get install
# netdata-core) runs the same lines against netdata 1.37's statsd plugin over TCP on loopback.
# Everything runs on this machine; both daemons are stopped by pid at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-2000000}
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)/slawatch
work=$(mktemp -d /tmp/slawatch-bench.XXXXXX)
mkdir -p "$work/objectives.d"
{
    echo "slas:"
    echo "  - {name: bench, provider: bench, customer: bench, objectives: ["
    for i in $(seq 0 999); do
        echo "      {name: bench-$i, metric: bench.s$i, sli: count, window: 5m, direction: at_most, baseline: 1e12, nodata: ok},"
    done
    echo "    ]}"
} > "$work/objectives.d/bench.yaml"
cat > "$work/slawatch.yaml" <<YAML
state_directory: state
runtime_directory: run
drop_directory: drop
objectives_directory: objectives.d
max_future_skew: 5m
YAML
"$bin" daemon --config "$work/slawatch.yaml" --stderr > "$work/daemon.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; [ -n "${nd:-}" ] && kill -TERM $nd 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -S "$work/run/control.sock" ] && break; sleep 0.1; done
echo "== slawatch $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(date -u +%FT%TZ)"
"$bin" bench --socket "$work/run/ingest.sock" --events "$events" --series 1000 --datagrams 50000 --lines-per-datagram 20
"$bin" bench --socket "$work/run/ingest.sock" --events "$events" --series 100000
echo "== allocations on the ingest hot path (Benchmarks/, ordo-one/malloc-interposer)"
(
    cd Benchmarks
    swift build -c release >/dev/null
    benchbin=$(swift build -c release --show-bin-path)
    LD_PRELOAD="$benchbin/libMallocInterposerSwift.so" "$benchbin/ingest-allocations" "$events" 1000
    LD_PRELOAD="$benchbin/libMallocInterposerSwift.so" "$benchbin/ingest-allocations" "$events" 100000
)
if command -v netdata >/dev/null; then
    nd_dir="$work/netdata"
    mkdir -p "$nd_dir"/{cache,lib,log,run}
    sed "s#/tmp/nd#$nd_dir#g" Benchmarks/netdata.conf > "$nd_dir/netdata.conf"
    netdata -D -c "$nd_dir/netdata.conf" > "$nd_dir/out.log" 2>&1 &
    nd=$!
    for _ in $(seq 1 100); do ss -ltn | grep -q 127.0.0.1:18125 && break; sleep 0.1; done
    echo "== netdata $(netdata -v 2>&1 | head -1)"
    python3 Benchmarks/netdata_statsd.py "$nd" 18125 "$events" 1000
    python3 Benchmarks/netdata_statsd.py "$nd" 18125 "$events" 100000
fi
