#!/usr/bin/env bash
# Checks the ic0 host's instruction meter against the IC's published figures: runs every
# benchmark canister in ../shared/calibration/wasm/ (stable-structures' canbench suite) on the
# host and prints host, IC and host/IC per benchmark, then the median per crate.
#   scripts/calibrate.sh               all 405 benchmarks (310 B instructions: a long run)
#   scripts/calibrate.sh --gated       only the six that gate CI
#   scripts/calibrate.sh --max-ic N    the six and those the IC counts at most N (CI: 200 M)
#   scripts/calibrate.sh --only a,b    only the named benchmarks
#   scripts/calibrate.sh DIR           another calibration folder
# Caveat (../shared/calibration/README.md): the published figures come from wasm built with
# rustc 1.84, the wasm files here with rustc 1.95 (bulk memory, a newer allocator), so only
# benchmarks dominated by stable-memory I/O run the same code on both sides. Those six are
# gated: the exit status is non-zero when any is more than 10 % off. Every other row is
# reported with its likely cause.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The counts come from the host's fuel, not the native speed, so the test build does: CI compiled
# it for the tests already (wasmi and the host are optimised in it), where the bench profile
# would compile the whole bench crate again. CALIBRATE_PROFILE=bench runs about 1.8x faster once
# compiled: for the whole suite.
cargo run --profile "${CALIBRATE_PROFILE:-dev}" -q -p bench --bin calibrate -- "$@"
