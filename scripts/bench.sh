#!/usr/bin/env bash
# Benchmarks, each figure printed beside its target (never asserted): the catalog (import,
# search, lookup, upgrade, memory) and the market (matching, lease by SKU, the SKU view, a timer
# batch of 1 k due tasks, upgrade).
#   scripts/bench.sh                        100 k offerings and 10 k items / 50 k offers (minutes)
#   scripts/bench.sh --offerings 5000       a smaller catalog (the market at a tenth of it)
#   scripts/bench.sh --market-items 10000   the market's scale (0 skips it)
#   scripts/bench.sh --per-provider 1       offerings per provider (100 by default); each provider
#                                           publishes from its own principal, as in real use
#   scripts/bench.sh --million              also the 1 M-offering rows (much longer)
#   scripts/bench.sh --upgrade-drill        only the upgrade drill: 100 k offerings and leases in
#                                           every phase, every view compared across an upgrade,
#                                           its instructions, the timers after it (--lease-sets N)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build.sh --marketplace-only
cargo run --profile bench -q -p bench -- "$@"
