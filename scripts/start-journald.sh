#!/usr/bin/env bash
# Makes sure a systemd-journald is listening on /run/systemd/journal/socket. On a machine where
# systemd is PID 1 it already is; in a container or CI sandbox without a service manager, start
# journald standalone (never boot systemd itself).
set -euo pipefail
sock=/run/systemd/journal/socket
if [ -S "$sock" ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
    echo "no journald socket at $sock and not root: journal tests will use stderr" >&2
    exit 0
fi
mkdir -p /run/systemd/journal
nohup /lib/systemd/systemd-journald >/tmp/slawatch-journald.log 2>&1 </dev/null &
for _ in $(seq 1 50); do
    [ -S "$sock" ] && exit 0
    sleep 0.1
done
echo "systemd-journald did not come up; see /tmp/slawatch-journald.log" >&2
exit 1
