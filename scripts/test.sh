#!/usr/bin/env bash
# The whole test suite in one command: builds the wasm the end-to-end tests load
# (scripts/build.sh), then runs every workspace test, then the doc tests.
# Extra arguments go to the test runner, e.g. `scripts/test.sh -E 'test(upgrade)'` (nextest)
# or `scripts/test.sh upgrade` (cargo test filter).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build.sh

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-tests=warn "$@"
else
    echo "test.sh: cargo-nextest not found, falling back to cargo test" >&2
    echo "         (install it with: cargo install cargo-nextest --locked)" >&2
    cargo test --workspace --all-targets "$@"
fi

# nextest does not run doc tests; this passes when there are none.
cargo test --workspace --doc
