#!/usr/bin/env bash
# Makes sure a systemd-journald is listening on /run/systemd/journal/socket. On a machine where
# systemd is PID 1 it already is; in a container or CI sandbox without a service manager, start
# journald standalone (never boot systemd itself). A socket file left by a journald that has
# since died refuses connections: such stale sockets are removed and journald started afresh.
set -euo pipefail
dir=/run/systemd/journal
sock=$dir/socket
listening() { [ -S "$sock" ] && echo "slawatch journal probe" | systemd-cat -t slawatch-probe 2>/dev/null; }
if listening; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "no journald listening on $sock and not root: journal tests will use stderr" >&2
    exit 0
fi
if [ -e "$sock" ]; then
    echo "removing stale journald sockets under $dir (connection refused)" >&2
    rm -f "$sock" "$dir/stdout" "$dir/dev-log" "$dir/io.systemd.journal" "$dir/syslog"
fi
mkdir -p "$dir"
nohup /lib/systemd/systemd-journald >/tmp/slawatch-journald.log 2>&1 </dev/null &
for _ in $(seq 1 50); do
    if listening; then exit 0; fi
    sleep 0.1
done
echo "systemd-journald did not come up; see /tmp/slawatch-journald.log" >&2
exit 1
