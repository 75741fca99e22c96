#!/usr/bin/env bash
# Runs a Python script of scripts/ against a slawatch binary in the tests' own journal
# (scripts/test-journal.sh), never the operator's; used by soak.sh and hostile.sh.
#   scripts/with-binary.sh SCRIPT.py [--bin PATH] [ARG…]
# --bin defaults to .build/debug/slawatch, built when missing; the script gets it as --bin.
set -euo pipefail
cd "$(dirname "$0")/.."
script=$1
shift
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
exec scripts/test-journal.sh python3 "$script" --bin "$(realpath "$bin")" ${args[@]+"${args[@]}"}
