#!/usr/bin/env bash
# mkt-mcp through the official MCP Python SDK: installs the pinned SDK (requirements.txt, hashes
# required) into a virtualenv under target/, builds mkt and mkt-mcp, and runs market_sdk.py.
# Needs python3 (3.11, with venv and pip) and target/wasm/marketplace.wasm.gz
# (bash scripts/build.sh --marketplace-only).
#   bash mcp/tests/python/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="$root/target/mcp-python-sdk"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
    --only-binary :all: -r "$here/requirements.txt"
cargo build --quiet -p runner --bin mkt -p mcp --bin mkt-mcp
"$venv/bin/python" "$here/market_sdk.py" "$root/target/debug/mkt" "$root/target/debug/mkt-mcp" "$root"
