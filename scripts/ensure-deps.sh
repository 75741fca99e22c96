#!/usr/bin/env bash
# Installs what building and testing slawatch needs on Debian, only when it is missing:
# libsystemd-dev (the CSystemd target links libsystemd through pkg-config) and socat (tests push
# events with it as a real peer).
set -euo pipefail
missing=()
pkg-config --exists libsystemd 2>/dev/null || missing+=(libsystemd-dev pkg-config)
command -v socat >/dev/null 2>&1 || missing+=(socat)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}" >&2
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
