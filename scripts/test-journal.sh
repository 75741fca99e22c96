#!/usr/bin/env bash
# Runs a command with a journal of its own, so tests never write into the operator's journal.
#   scripts/test-journal.sh COMMAND [ARG…]
# Starts `systemd-journald slawatch-test` (a journald namespace: it listens on
# /run/systemd/journal.slawatch-test/, keeps its files in /run/log/journal/MACHINE.slawatch-test/,
# volatile) when it is not listening yet, then execs COMMAND in a private mount namespace where
# that directory is bind-mounted over /run/systemd/journal: sd_journal_sendv, systemd-cat and
# syslog(3) from COMMAND and every process it starts reach the test journal. The command keeps
# this script's pid (unshare and bash exec). Read the entries back with
#   journalctl --namespace slawatch-test
# Inside, SLAWATCH_TEST_JOURNAL=slawatch-test is set; run again inside, the script only execs.
# Needs root (mount namespaces; without it the command runs as is); never boots systemd.
set -euo pipefail
ns=${SLAWATCH_TEST_JOURNAL_NAMESPACE:-slawatch-test}
[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARG…]" >&2; exit 2; }
if [ "${SLAWATCH_TEST_JOURNAL:-}" = "$ns" ]; then exec "$@"; fi
if [ "$(id -u)" -ne 0 ]; then
    # Without root there is no private mount namespace: run the command as is. The tests then
    # start their daemons with --stderr and skip what reads a journal; nothing reaches the
    # operator's journal either way.
    echo "scripts/test-journal.sh: not root, no private journal: journal tests are skipped" >&2
    exec "$@"
fi
dir=/run/systemd/journal.$ns
listening() {
    [ -S "$dir/socket" ] && python3 - "$dir/socket" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(sys.argv[1])
PY
}
if ! listening; then
    # Volatile storage with a cap: the test journal never fills the disk and never outlives a boot.
    mkdir -p "/run/systemd/journald@$ns.conf.d"
    printf '[Journal]\nStorage=volatile\nRuntimeMaxUse=256M\nRateLimitBurst=0\n' \
        > "/run/systemd/journald@$ns.conf.d/slawatch-test.conf"
    # Sockets left by a journald that has since died refuse connections.
    rm -f "$dir/socket" "$dir/stdout" "$dir/dev-log" "$dir/io.systemd.journal"
    journald=$(command -v systemd-journald || echo /lib/systemd/systemd-journald)
    nohup "$journald" "$ns" > "/tmp/slawatch-test-journald.log" 2>&1 < /dev/null &
    for _ in $(seq 1 100); do listening && break; sleep 0.05; done
    listening || { echo "systemd-journald $ns did not come up; see /tmp/slawatch-test-journald.log" >&2; exit 1; }
fi
# A journald namespace exits after 30 s without clients (server_is_idle): hold one stdout stream
# open to it for as long as COMMAND runs (this pid, after exec), so it is there for every test.
python3 - "$dir/stdout" "$$" <<'PY' > /dev/null 2>&1 &
import os, select, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
# The stdout-stream header: identifier, unit, priority, level prefix, forward to syslog/kmsg/console.
s.sendall(b"slawatch-test-keepalive\n\n6\n0\n0\n0\n0\n")
select.select([os.pidfd_open(int(sys.argv[2]))], [], [])
PY
# The mount point must exist on the host (an empty directory when no default journald runs).
mkdir -p /run/systemd/journal
export SLAWATCH_TEST_JOURNAL=$ns
exec unshare --mount --propagation private -- bash -c \
    'mount --bind "$0" /run/systemd/journal && exec "$@"' "$dir" "$@"
