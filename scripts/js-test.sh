#!/usr/bin/env bash
# The JavaScript side: the TypeScript bindings generated from candid/marketplace.did with
# @icp-sdk/bindgen (js/src/declarations, committed) must be exactly what the .did generates
# now, and js/test/ (node:test) must talk to the canister through them as a dapp does: the test
# deploys into a fresh state directory, starts `mkt serve --port 0 --manual-time` (the IC's HTTP
# interface on 127.0.0.1), and calls it with @icp-sdk/core HttpAgents (default verification:
# certificates against the fetched local root key, query signatures against the node keys) and
# actors made from the bindings, as Ed25519, secp256k1 and delegated identities; what the
# provider's key signs comes from `mkt provider sign|delegate … --hex`. It stops the server with
# SIGTERM and expects exit 0.
#   scripts/js-test.sh
# Needs node >= 20 and npm; the packages come from js/package-lock.json (npm ci, into
# js/node_modules). Builds mkt, and the wasm if target/wasm has none.
# After changing the .did: (cd js && npm run bindgen), then commit js/src/declarations.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

for tool in node npm cargo; do
    if ! command -v "$tool" >/dev/null; then
        echo "js-test.sh: $tool not found" >&2
        exit 1
    fi
done
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
    echo "js-test.sh: node $(node --version) found, 20 or newer needed" >&2
    exit 1
fi

echo "js-test.sh: node $(node --version), npm $(npm --version 2>/dev/null)"
npm ci --prefix js --no-audit --no-fund --loglevel=error >/dev/null

# The committed bindings against a fresh generation from the .did.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The web app calls the ledger (icrc2_approve, balances) through ledger/ledger.did's bindings.
for did in candid/marketplace.did ledger/ledger.did; do
    js/node_modules/.bin/icp-bindgen --did-file "$did" --out-dir "$tmp/declarations" \
        --declarations-flat >/dev/null
done
if ! diff -ru js/src/declarations "$tmp/declarations" >"$tmp/drift.diff"; then
    head -n 60 "$tmp/drift.diff" >&2
    echo "js-test.sh: js/src/declarations is out of date with candid/marketplace.did or ledger/ledger.did;" >&2
    echo "            regenerate with: (cd js && npm run bindgen)" >&2
    exit 1
fi
echo "js-test.sh: js/src/declarations matches candid/marketplace.did and ledger/ledger.did"

cargo build -q -p runner --bin mkt
if [[ ! -f target/wasm/marketplace.wasm.gz ]]; then
    bash scripts/build.sh --marketplace-only
fi
MKT_BIN="$(cd "${CARGO_TARGET_DIR:-target}/debug" && pwd)/mkt"
export MKT_BIN

node --test --test-reporter=spec js/test/
