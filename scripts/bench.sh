#!/usr/bin/env bash
# Benchmarks of issue 3's table, each figure printed beside its target (never asserted).
#   scripts/bench.sh                    100 k offerings, native and wasm (a few minutes)
#   scripts/bench.sh --offerings 5000   a smaller catalog
#   scripts/bench.sh --million          also the 1 M-offering rows (much longer)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build.sh --marketplace-only
cargo run --profile bench -q -p bench -- "$@"
