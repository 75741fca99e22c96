#!/usr/bin/env bash
# Writes slawatch(8) in roff to stdout from the binary's own --help texts, so the man page never
# drifts from the commands. usage: scripts/manpage.sh BINARY
set -euo pipefail
bin=$1
esc() { sed -e 's/\\/\\\\/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\\&'/"; }
cat <<'ROFF'
.TH SLAWATCH 8 "" "slawatch" "System Administration"
.SH NAME
slawatch \- watch service-level agreements: events in, journal alerts out
.SH DESCRIPTION
slawatch keeps rolling and calendar windows of metric events (statsd/DogStatsD or JSON lines on
Unix sockets, or files in a drop directory), judges each objective against its baseline, stores
its state in SQLite and writes one structured journal entry per state change
(journalctl SYSLOG_IDENTIFIER=slawatch; journalctl \-x explains each MESSAGE_ID).
.PP
Files: /etc/slawatch/slawatch.yaml, /etc/slawatch/objectives.d/*.yaml, /var/lib/slawatch
(state.sqlite, drop/), /run/slawatch/{ingest.sock,ingest.dgram,control.sock}.
See /usr/share/doc/slawatch/ for the protocol and the configuration reference.
ROFF
for cmd in "" daemon push status alerts check bench; do
    if [ -z "$cmd" ]; then echo ".SH SYNOPSIS"; else echo ".SH COMMAND: $cmd"; fi
    echo ".nf"
    # shellcheck disable=SC2086
    "$bin" $cmd --help 2>&1 | esc
    echo ".fi"
done
