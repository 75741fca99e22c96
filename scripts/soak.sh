#!/usr/bin/env bash
# Crash soak (scripts/soak.py): stream clients with #sync, datagrams and drop files while the
# daemon is killed with SIGKILL at random moments; prints acknowledged <= counted <= sent per
# path, files counted once, PRAGMA integrity_check and the breach entries of one episode.
#   scripts/soak.sh [--kills N] [--bin PATH] [--seed S]   (default 50 kills: CI; --kills 1000 for the long soak)
exec "$(dirname "$0")/with-binary.sh" scripts/soak.py "$@"
