#!/usr/bin/env bash
# Checks the systemd files without a running systemd (never boots it):
#  - systemd-analyze verify on every unit prints nothing;
#  - systemd-analyze security --offline=yes rates slawatch.service at most 1.0 (SAFE) and
#    slawatch-forward.service at most 2.0;
#  - systemd-sysusers and systemd-tmpfiles accept their files against a scratch root;
#  - the catalog compiles and journalctl -x renders an entry's Subject (inside a private mount
#    namespace, so the host's catalog database is untouched);
#  - neither the binary nor any library it loads has an executable stack (MemoryDenyWriteExecute).
# usage: scripts/check-units.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-$PWD/.build/debug/slawatch}
units=$(mktemp -d)
for f in systemd/*.service systemd/*.socket; do
    sed "s#/usr/bin/slawatch#$bin#" "$f" > "$units/$(basename "$f")"
done
out=$(systemd-analyze verify --man=no "$units"/*.service "$units"/*.socket 2>&1 || true)
if [ -n "$out" ]; then echo "$out"; echo "systemd-analyze verify printed warnings" >&2; exit 1; fi
echo "units: verify clean"
score=$(systemd-analyze security --offline=yes "$units/slawatch.service" 2>&1 | sed -n 's/.*Overall exposure level for slawatch.service: \([0-9.]*\).*/\1/p')
echo "units: security exposure $score"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 1.0) }' || { echo "exposure $score is above 1.0" >&2; exit 1; }
# The forwarder talks to Alertmanager over the network: at most 2.0 (issue 16).
fscore=$(systemd-analyze security --offline=yes "$units/slawatch-forward.service" 2>&1 | sed -n 's/.*Overall exposure level for slawatch-forward.service: \([0-9.]*\).*/\1/p')
echo "units: forwarder security exposure $fscore"
awk -v s="$fscore" 'BEGIN { exit !(s != "" && s <= 2.0) }' || { echo "forwarder exposure $fscore is above 2.0" >&2; exit 1; }
root=$(mktemp -d)
mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
: > "$root/etc/passwd"; : > "$root/etc/group"
# With --root, configuration files are looked up inside the root: install them there first.
cp systemd/sysusers.d/slawatch.conf "$root/usr/lib/sysusers.d/"
cp systemd/tmpfiles.d/slawatch.conf "$root/usr/lib/tmpfiles.d/"
systemd-sysusers --root="$root" slawatch.conf
grep -q '^slawatch:' "$root/etc/passwd" && grep -q '^slawatch:' "$root/etc/group"
systemd-tmpfiles --root="$root" --create slawatch.conf
[ -d "$root/var/lib/slawatch/drop/processed" ]
echo "units: sysusers and tmpfiles accepted"
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
    id=$(grep -m1 -oE '^-- [0-9a-f]{32}' systemd/slawatch.catalog | cut -c4-)
    unshare -m --propagation private bash -c '
        set -e
        cat_dir=$(mktemp -d); db_dir=$(mktemp -d)
        cp /usr/lib/systemd/catalog/*.catalog "$cat_dir"/ 2>/dev/null || true
        cp systemd/slawatch.catalog "$cat_dir"/
        mount --bind "$cat_dir" /usr/lib/systemd/catalog
        mkdir -p /var/lib/systemd/catalog
        mount --bind "$db_dir" /var/lib/systemd/catalog
        journalctl --update-catalog
        journalctl --list-catalog | grep -q "slawatch"
        # Render the explanation of an entry of that id if the tests journal has one (make test
        # writes some there: journalctl --namespace slawatch-test).
        j="journalctl --namespace slawatch-test"
        if [ -n "$($j -q -n 1 MESSAGE_ID='"$id"' 2>/dev/null)" ]; then
            $j -x -n 1 --no-pager MESSAGE_ID='"$id"' | grep -q "Subject: SLA objective"
            echo "units: journalctl -x renders the catalog entry of MESSAGE_ID='"$id"'"
        else
            echo "units: catalog compiled (no entry of MESSAGE_ID='"$id"' in the journal to render)"
        fi
    '
fi
# MemoryDenyWriteExecute=yes, as the kernel enforces it (prctl PR_SET_MDWE, Linux >= 6.3): the
# daemon starts, takes an event and stops cleanly under it.
mdwe=$(mktemp -d)
mkdir -p "$mdwe/objectives.d"
printf 'state_directory: state\nruntime_directory: run\ndrop_directory: drop\nobjectives_directory: objectives.d\n' > "$mdwe/c.yaml"
if python3 -c 'import ctypes; import sys; sys.exit(0 if ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0 else 1)'; then
    python3 -c 'import ctypes, os, sys; ctypes.CDLL(None).prctl(65, 1, 0, 0, 0); os.execv(sys.argv[1], sys.argv[1:])' \
        "$bin" daemon --config "$mdwe/c.yaml" --stderr > "$mdwe/log" 2>&1 &
    mdwe_pid=$!
    for _ in $(seq 1 100); do [ -S "$mdwe/run/control.sock" ] && break; sleep 0.1; done
    "$bin" push --socket "$mdwe/run/ingest.sock" 'mdwe.check:1|c' >/dev/null
    kill -TERM "$mdwe_pid"; wait "$mdwe_pid"
    echo "units: the daemon runs under MemoryDenyWriteExecute (PR_SET_MDWE)"
else
    echo "units: PR_SET_MDWE not supported by this kernel; MemoryDenyWriteExecute check skipped"
fi
bad=0
for f in "$bin" $(ldd "$bin" | awk '/=> \// { print $3 }'); do
    if readelf -lW "$f" | grep -q 'GNU_STACK.*RWE'; then echo "executable stack: $f" >&2; bad=1; fi
done
[ "$bad" -eq 0 ] && echo "units: no executable stack in the binary or its $(ldd "$bin" | grep -c '=> /') libraries"
exit "$bad"
