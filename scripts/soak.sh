#!/usr/bin/env bash
# Crash soak (scripts/soak.py): stream clients with #sync, datagrams and drop files while the
# daemon is killed with SIGKILL at random moments; prints acknowledged <= counted <= sent per
# path, files counted once, PRAGMA integrity_check and the breach entries of one episode.
#   scripts/soak.sh [--kills N] [--bin PATH] [--seed S]   (default 50 kills: CI; --kills 1000 for the long soak)
# Uses .build/debug/slawatch unless --bin is given (building it when missing), and the tests'
# own journal (scripts/test-journal.sh), never the operator's.
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
exec scripts/test-journal.sh python3 scripts/soak.py --bin "$(realpath "$bin")" ${args[@]+"${args[@]}"}
