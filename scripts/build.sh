#!/usr/bin/env bash
# Builds the canister wasm that tests, benchmarks, the runner and deployments all use.
#
#   scripts/build.sh                   marketplace + probe + test ledger
#   scripts/build.sh --probe-only      only the probe (the ic0 host's test canister)
#   scripts/build.sh --marketplace-only
#   scripts/build.sh --ledger-only     only the test ledger (ICRC-1/ICRC-2, ledger/)
#
# Outputs (stable paths; dfx.json and icp.yaml point at the .gz):
#   target/wasm/marketplace.wasm       shrunk, with public `candid:service` and `candid:args` metadata
#   target/wasm/marketplace.wasm.gz    the same, gzip -n (deterministic): what gets deployed
#   target/wasm/marketplace-self-check.wasm  the same built with `--features self-check`
#                                      (every market rule checked after each update and timer
#                                      run; tests/self_check.rs), never deployed
#   target/wasm/probe.wasm             shrunk
#   target/wasm/test-ledger.wasm       shrunk, with public `candid:service` (ledger/ledger.did) and
#                                      `candid:args` metadata
#   js/app/dist/                       the web app (node js/app/build.mjs), embedded in the wasm
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_marketplace=1
build_probe=1
build_ledger=1
for arg in "$@"; do
    case "$arg" in
        --probe-only) build_marketplace=0 build_ledger=0 ;;
        --marketplace-only) build_probe=0 build_ledger=0 ;;
        --ledger-only) build_marketplace=0 build_probe=0 ;;
        -h | --help)
            sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "build.sh: unknown argument '$arg' (try --help)" >&2
            exit 2
            ;;
    esac
done

# A fresh machine needs the wasm target and ic-wasm; fetch them once (registries only).
TARGET=wasm32-unknown-unknown
IC_WASM_VERSION=0.11.1
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$TARGET"; then
    echo "build.sh: adding the $TARGET target" >&2
    rustup target add "$TARGET"
fi
IC_WASM="${IC_WASM:-$(command -v ic-wasm || true)}"
if [[ -z "$IC_WASM" && -x "$HOME/.cargo/bin/ic-wasm" ]]; then
    IC_WASM="$HOME/.cargo/bin/ic-wasm"
fi
if [[ -z "$IC_WASM" ]]; then
    echo "build.sh: installing ic-wasm $IC_WASM_VERSION (once, about two minutes)" >&2
    cargo install ic-wasm --locked --version "$IC_WASM_VERSION"
    IC_WASM="$HOME/.cargo/bin/ic-wasm"
fi

did="candid/marketplace.did"
if ((build_marketplace)) && [[ ! -f "$did" ]]; then
    echo "build.sh: $did is missing (it is embedded as candid:service metadata)" >&2
    exit 1
fi

# The web app the canister serves (js/app, built into js/app/dist and embedded by build.rs):
# built first, so the wasm always carries the app of this commit. Needs node >= 20 and npm.
if ((build_marketplace)); then
    if ! command -v npm >/dev/null; then
        echo "build.sh: npm not found: the canister embeds the web app (js/app), built with node" >&2
        exit 1
    fi
    if [[ ! -d js/node_modules ]] || [[ js/package-lock.json -nt js/node_modules/.package-lock.json ]]; then
        npm ci --prefix js --no-audit --no-fund --loglevel=error >/dev/null
    fi
    node js/app/build.mjs
fi

# One cargo invocation per canister: building them together would unify their dependencies'
# features, so a canister's wasm would depend on which others were built alongside it.
# The self-check build goes first and is copied aside: both write release/marketplace.wasm, and
# only the crate itself recompiles between them (the dependencies' features are the same).
release="${CARGO_TARGET_DIR:-target}/$TARGET/release"
out="target/wasm"
mkdir -p "$out"
if ((build_marketplace)); then
    cargo build --release --target "$TARGET" -p marketplace --features self-check
    "$IC_WASM" "$release/marketplace.wasm" -o "$out/marketplace-self-check.wasm.tmp" shrink
    mv "$out/marketplace-self-check.wasm.tmp" "$out/marketplace-self-check.wasm"
    cargo build --release --target "$TARGET" -p marketplace
fi
if ((build_probe)); then cargo build --release --target "$TARGET" -p probe; fi
if ((build_ledger)); then cargo build --release --target "$TARGET" -p test-ledger; fi

size() { stat -c %s "$1" 2>/dev/null || stat -f %z "$1"; }
report() { printf '  %-56s %9s bytes\n' "$1" "$(size "$1")"; }

echo "wasm outputs:"
if ((build_marketplace)); then
    # Outputs are written beside their final names and renamed, so a test or runner reading
    # them while a build runs never sees half a file.
    tmp="$out/marketplace.shrunk.wasm"
    "$IC_WASM" "$release/marketplace.wasm" -o "$tmp" shrink
    "$IC_WASM" "$tmp" -o "$tmp.service" metadata candid:service -f "$did" -v public
    # candid:args: the init (and upgrade) argument types, `(opt InitArg)`, read from the .did's
    # `service : (…) -> {` line; the names they use are defined in candid:service.
    args="$(sed -n 's/^service[[:space:]]*:[[:space:]]*\(([^)]*)\)[[:space:]]*->.*/\1/p' "$did")"
    [[ -n "$args" ]] || { echo "build.sh: no init arguments on $did's service line" >&2; exit 1; }
    "$IC_WASM" "$tmp.service" -o "$out/marketplace.wasm.tmp" metadata candid:args -d "$args" -v public
    rm -f "$tmp" "$tmp.service"
    gzip -n -9 -c "$out/marketplace.wasm.tmp" >"$out/marketplace.wasm.gz.tmp"
    mv "$out/marketplace.wasm.tmp" "$out/marketplace.wasm"
    mv "$out/marketplace.wasm.gz.tmp" "$out/marketplace.wasm.gz"
    report "$release/marketplace.wasm"
    report "$out/marketplace.wasm"
    report "$out/marketplace.wasm.gz"
    report "$out/marketplace-self-check.wasm"
fi
if ((build_probe)); then
    "$IC_WASM" "$release/probe.wasm" -o "$out/probe.wasm.tmp" shrink
    mv "$out/probe.wasm.tmp" "$out/probe.wasm"
    report "$release/probe.wasm"
    report "$out/probe.wasm"
fi
if ((build_ledger)); then
    ledger_did="ledger/ledger.did"
    tmp="$out/test-ledger.shrunk.wasm"
    "$IC_WASM" "$release/test_ledger.wasm" -o "$tmp" shrink
    "$IC_WASM" "$tmp" -o "$tmp.service" metadata candid:service -f "$ledger_did" -v public
    # candid:args, `(InitArg)`, from the .did's service line, as for the marketplace.
    args="$(sed -n 's/^service[[:space:]]*:[[:space:]]*\(([^)]*)\)[[:space:]]*->.*/\1/p' "$ledger_did")"
    [[ -n "$args" ]] || { echo "build.sh: no init arguments on $ledger_did's service line" >&2; exit 1; }
    "$IC_WASM" "$tmp.service" -o "$out/test-ledger.wasm.tmp" metadata candid:args -d "$args" -v public
    rm -f "$tmp" "$tmp.service"
    mv "$out/test-ledger.wasm.tmp" "$out/test-ledger.wasm"
    report "$release/test_ledger.wasm"
    report "$out/test-ledger.wasm"
fi
