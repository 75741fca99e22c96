#!/usr/bin/env bash
# Hostile clients against one daemon (scripts/hostile.py): idle connections past the descriptor
# limit, clients that never read, slow drips, a datagram flood and a cardinality flood, with
# descriptors, RSS and CPU printed over time and each bound asserted.
#   scripts/hostile.sh [--bin PATH] [--nofile N]   (default: .build/debug/slawatch, N = 1024)
# Runs in the tests' own journal (scripts/test-journal.sh), never the operator's.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=""
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --bin) bin=$2; shift ;;
        *) args+=("$1") ;;
    esac
    shift
done
if [ -z "$bin" ]; then
    bin=.build/debug/slawatch
    [ -x "$bin" ] || swift build >/dev/null
fi
exec scripts/test-journal.sh python3 scripts/hostile.py --bin "$(realpath "$bin")" ${args[@]+"${args[@]}"}
