#!/usr/bin/env bash
# Installs what building and testing slawatch needs on Debian, only when it is missing:
# libsystemd-dev (the CSystemd target links libsystemd through pkg-config), socat (tests push
# events with it as a real peer) and the DogStatsD Python client.
set -euo pipefail
missing=()
pkg-config --exists libsystemd 2>/dev/null || missing+=(libsystemd-dev pkg-config)
command -v socat >/dev/null 2>&1 || missing+=(socat)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The datagram tests drive the socket with the real DogStatsD client (PyPI `datadog`).
if ! python3 -c 'import datadog' 2>/dev/null; then
    echo "installing: datadog (PyPI)" >&2
    python3 -m pip install -q datadog 2>&1 | grep -v "Running pip as the 'root' user" >&2 || true
fi
