#!/usr/bin/env bash
# Installs, on Debian, every package and Python module that building slawatch, its tests, its
# scripts and the README use, and only what is missing. Each program is checked by the name the
# tests and scripts run it by (TestSupport/ExternalProgram.swift lists the tests'
# programs with their packages; keep the two lists in step).
#   scripts/ensure-deps.sh           everything for make run, make test, make install and .ci/run
#   scripts/ensure-deps.sh --bench   also the peers and tools of scripts/bench.sh (netdata's statsd
#                                    from netdata-core, ss, a C compiler for Benchmarks/bench_io.c)
set -euo pipefail
bench=no
[ "${1:-}" = "--bench" ] && bench=yes
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=()
need() { # need PROGRAM PACKAGE: install PACKAGE when PROGRAM is not on PATH (nor in sbin/systemd dirs)
    local p=$1 pkg=$2
    if ! PATH="$PATH:/usr/sbin:/sbin:/usr/lib/systemd:/lib/systemd" command -v "$p" >/dev/null 2>&1; then
        [[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
    fi
}
# Build: the CSystemd target links libsystemd through pkg-config.
need pkg-config pkg-config
pkg-config --exists libsystemd 2>/dev/null || missing+=(libsystemd-dev)
need make make
need git git
# Tests: real peers and tools (ExternalProgram.all).
need socat socat
need nc.openbsd netcat-openbsd
need python3 python3
need journalctl systemd
need systemd-socket-activate systemd
need systemd-journald systemd
need setpriv util-linux
need unshare util-linux
need prlimit util-linux
need nsenter util-linux
need useradd passwd
need userdel passwd
need groupadd passwd
need groupdel passwd
need mv coreutils
need rm coreutils
need cat coreutils
need ls coreutils
need mount mount
need bash bash
need sh dash
# Scripts: check-units.sh (systemd-analyze, sysusers, tmpfiles, readelf, ldd), make install
# (strip, objcopy), the man page (CI renders it with man --warnings).
need systemd-analyze systemd
need systemd-sysusers systemd
need systemd-tmpfiles systemd
need systemd-cat systemd
need readelf binutils
need objcopy binutils
need strip binutils
need ldd libc-bin
need man man-db
need groff groff-base
# The HTML report rendered by headless Chromium (ReportRenderTests), its PNG read by python3-pil.
need chromium chromium
# Prometheus peers (PrometheusTests): promtool lints the textfile, node_exporter's textfile
# collector reads it, Prometheus scrapes node_exporter on loopback.
need promtool prometheus
need prometheus prometheus
need prometheus-node-exporter prometheus-node-exporter
# Alertmanager and amtool (AlertmanagerTests): slawatch forward delivers to it on loopback.
need prometheus-alertmanager prometheus-alertmanager
need amtool prometheus-alertmanager
# The fleet's journal (FleetTests): journal-upload to journal-remote on loopback.
need systemd-journal-remote systemd-journal-remote
need systemd-journal-upload systemd-journal-remote
# slawatch status drawn in a real terminal (StatusTerminalTests).
need tmux tmux
/usr/bin/python3 -c 'import PIL' 2>/dev/null || missing+=(python3-pil)
# CI's count gate (scripts/check-counts.sh): instruction counts by callgrind.
need valgrind valgrind
if [ "$bench" = yes ]; then
    need netdata netdata-core
    need ss iproute2
    need cc gcc
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The datagram tests drive the socket with the real DogStatsD client (PyPI `datadog`; Debian has
# no package of it). Debian's own python3 refuses pip installs (PEP 668) unless told otherwise.
if ! python3 -c 'import datadog' 2>/dev/null; then
    echo "installing: datadog (PyPI)" >&2
    if ! python3 -m pip --version >/dev/null 2>&1; then
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
    fi
    python3 -m pip install -q --root-user-action=ignore datadog 2>/dev/null \
        || python3 -m pip install -q --root-user-action=ignore --break-system-packages datadog
    python3 -c 'import datadog'
fi
