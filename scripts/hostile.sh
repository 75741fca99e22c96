#!/usr/bin/env bash
# Hostile clients against one daemon (scripts/hostile.py): idle connections past the descriptor
# limit, clients that never read, slow drips, a datagram flood and a cardinality flood, with
# descriptors, RSS and CPU printed over time and each bound asserted.
#   scripts/hostile.sh [--bin PATH] [--nofile N]   (default: .build/debug/slawatch, N = 1024)
exec "$(dirname "$0")/with-binary.sh" scripts/hostile.py "$@"
