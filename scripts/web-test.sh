#!/usr/bin/env bash
# The web app in a real browser: type-checks js/app (tsc), builds it (js/app/dist, the bundle
# size printed against its target), builds the wasm that embeds it and mkt, then runs
# js/app/test/*.test.mjs (node:test): each starts `mkt serve --manual-time`, opens the app the
# canister serves at http://<canister id>.localhost:PORT/ (the gateway verifies every response
# against the certificate) in Debian's headless Chromium through playwright-core, and walks a
# journey. Every page is screenshotted into target/screenshots/, checked with axe-core (no
# serious or critical violation) and tabbed through (every control reachable by keyboard).
#   scripts/web-test.sh [--no-build]      (--no-build: reuse the wasm in target/wasm)
# Needs node >= 20, npm and chromium (Debian: apt-get install chromium; CHROMIUM overrides
# /usr/bin/chromium). Packages come from js/package-lock.json; no browser is downloaded.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=1
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        *) echo "web-test.sh: unknown argument '$arg'" >&2; exit 2 ;;
    esac
done

chrome="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chrome" ]]; then
    echo "web-test.sh: no Chromium at $chrome (Debian: apt-get install chromium)" >&2
    exit 1
fi
echo "web-test.sh: $("$chrome" --version 2>/dev/null | head -n1), node $(node --version)"

npm ci --prefix js --no-audit --no-fund --loglevel=error >/dev/null
npm run --prefix js --silent typecheck
if ((build)); then
    # build.sh builds the app first and embeds it.
    bash scripts/build.sh --marketplace-only
fi
cargo build -q -p runner --bin mkt
MKT_BIN="$(cd "${CARGO_TARGET_DIR:-target}/debug" && pwd)/mkt"
export MKT_BIN
rm -rf target/screenshots
node --test --test-concurrency=1 --test-reporter=spec js/app/test/*.test.mjs
echo "web-test.sh: screenshots in target/screenshots/: $(ls target/screenshots | tr '\n' ' ')"
