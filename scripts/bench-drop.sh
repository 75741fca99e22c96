#!/usr/bin/env bash
# Drop-directory benchmark (docs/performance.md):
#   scripts/bench-drop.sh [GIB]     (default 1: the size of the streamed statsd file)
# Builds slawatch in release mode and starts it on a temporary config, then
#  1. drops NAB's nyc_taxi.csv (../shared/data/nab, 10,320 rows) ten times, each copy shifted by a
#     constant so its last row is now (values untouched), through a `drop.csv` mapping, and
#     reports lines per second from each file's journal entry (SLAWATCH_SECONDS);
#  2. drops one statsd file of GIB GiB and reports its lines per second and the daemon's peak
#     resident set (VmHWM) before and after: the growth shows the file is streamed.
# The daemon is stopped by pid at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
gib=${1:-1}
data=${SLAWATCH_DATA_DIR:-$(cd .. && pwd)/shared/data}
[ -f "$data/nab/nyc_taxi.csv" ] || { echo "no $data/nab/nyc_taxi.csv (set SLAWATCH_DATA_DIR)" >&2; exit 1; }
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)/slawatch
work=$(mktemp -d /tmp/slawatch-bench-drop.XXXXXX)
mkdir -p "$work/objectives.d"
cat > "$work/objectives.d/bench.yaml" <<YAML
slas:
  - name: bench-drop
    provider: bench
    customer: bench
    objectives:
      - {name: taxi, metric: taxi.passengers, sli: sum, window: 220d, direction: at_least, baseline: 1, nodata: ok}
      - {name: big, metric: bench.big, sli: count, window: 1h, direction: at_most, baseline: 1e15, nodata: ok}
YAML
cat > "$work/slawatch.yaml" <<YAML
state_directory: state
runtime_directory: run
drop_directory: drop
objectives_directory: objectives.d
drop:
  csv:
    - {match: "nyc_taxi*.csv", metric: taxi.passengers}
YAML
"$bin" daemon --config "$work/slawatch.yaml" > "$work/daemon.log" 2>&1 &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do [ -S "$work/run/control.sock" ] && break; sleep 0.1; done
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$daemon/status"; }
entry() { # $1 = file name: prints "LINES SECONDS" from its journal entry
    for _ in $(seq 1 600); do
        journalctl --sync 2>/dev/null || true
        out=$(journalctl -o json --no-pager "SLAWATCH_FILE=$work/drop/$1" "_PID=$daemon" 2>/dev/null | tail -1)
        if [ -n "$out" ]; then
            python3 -c 'import json,sys; e=json.loads(sys.argv[1]); print(e["SLAWATCH_LINES"], e["SLAWATCH_SECONDS"], e["SLAWATCH_ACCEPTED"], e["SLAWATCH_REJECTED"])' "$out"
            return
        fi
        sleep 0.2
    done
    echo "no journal entry for $1" >&2; exit 1
}
echo "== slawatch $(git rev-parse --short HEAD 2>/dev/null || echo '?'), release, $(nproc) cores, $(date -u +%FT%TZ)"
echo "== NAB nyc_taxi.csv through a drop.csv mapping (10 copies, copy k shifted so its last row is k seconds before now)"
base=$(date +%s)
for k in $(seq 1 10); do
    python3 - "$data/nab/nyc_taxi.csv" "$work/.taxi$k" "$k" "$base" <<'PY'
import sys, datetime as dt
src, dst, k, base = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = open(src).read().splitlines()
fmt = "%Y-%m-%d %H:%M:%S"
last = dt.datetime.strptime(rows[-1].split(",")[0], fmt).replace(tzinfo=dt.timezone.utc)
shift = dt.timedelta(seconds=base - 5 - k - int(last.timestamp()))
out = [rows[0]]
for r in rows[1:]:
    t, v = r.split(",")
    out.append((dt.datetime.strptime(t, fmt) + shift).strftime(fmt) + "," + v)
open(dst, "w").write("\n".join(out))
PY
    mv "$work/.taxi$k" "$work/drop/nyc_taxi-$k.csv"
    read -r lines secs acc rej < <(entry "nyc_taxi-$k.csv")
    python3 -c "import sys; l,s=int(sys.argv[1]),float(sys.argv[2]); print(f'nyc_taxi-{sys.argv[3]}.csv: {l} lines, {sys.argv[4]} accepted, {sys.argv[5]} rejected, {s:.3f} s, {l/s:,.0f} lines/s')" "$lines" "$secs" "$k" "$acc" "$rej"
done
echo "== one ${gib} GiB statsd file"
python3 - "$work/.big" "$gib" <<'PY'
import sys
line = b"bench.big:1|c|#region:eu,tier:gold\n"
block = line * (1 << 20 // len(line) + 1)
target = int(float(sys.argv[2]) * (1 << 30))
with open(sys.argv[1], "wb") as f:
    n = 0
    while n < target:
        f.write(block); n += len(block)
PY
size=$(stat -c %s "$work/.big")
before=$(hwm)
mv "$work/.big" "$work/drop/big.statsd"
read -r lines secs acc rej < <(entry "big.statsd")
after=$(hwm)
python3 -c "import sys; l,s=int(sys.argv[1]),float(sys.argv[2]); print(f'big.statsd: {int(sys.argv[3]):,} bytes, {l:,} lines, {int(sys.argv[6]):,} accepted, {s:.1f} s, {l/s:,.0f} lines/s; peak RSS {int(sys.argv[4])//1024} MiB before, {int(sys.argv[5])//1024} MiB after (growth {(int(sys.argv[5])-int(sys.argv[4]))//1024} MiB)')" "$lines" "$secs" "$size" "$before" "$after" "$acc"
