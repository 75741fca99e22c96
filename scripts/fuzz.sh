#!/usr/bin/env bash
# Builds the libFuzzer target for the line parser (with AddressSanitizer) and runs it.
#   scripts/fuzz.sh [SECONDS]   (default 600; CI runs a short smoke)
# The corpus grows in .build-fuzz/corpus, seeded from Fuzz/corpus; a crash leaves crash-* there.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
out=.build-fuzz
mkdir -p "$out/corpus"
cp -n Fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
# SLAWatchCore without the files that need Yams (config loading is not on the wire path).
# Everything in the core but the YAML side (config loaders, `slawatch test` files): the fuzzer
# links no Yams.
sources=$(find Sources/SLAWatchCore -name '*.swift' ! -name 'YAMLReader.swift' ! -name 'DaemonConfig.swift' \
    ! -name 'ObjectivesConfig.swift' -exec grep -L '^import Yams' {} +)
swiftc -sanitize=fuzzer,address -parse-as-library -module-name SLAWatchFuzz -O \
    Fuzz/FuzzLineParser.swift $sources -o "$out/fuzz-line-parser"
cd "$out"
./fuzz-line-parser -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 corpus 2>&1 | tail -25
