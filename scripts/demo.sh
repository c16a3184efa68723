#!/usr/bin/env bash
# Builds the canister and runs a short scenario on the local runner `mkt` (runner/), in a
# temporary state directory: deploy, status, an Ironic discovery that fails with a typed error
# (the runner makes no network requests), two hours passing (the manager's timer runs),
# an upgrade, and status again showing the state was kept.
#
#   scripts/demo.sh              build with scripts/build.sh, then run the scenario
#   scripts/demo.sh --no-build   run it on the wasm already in target/wasm
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=1
for arg in "$@"; do
    case "$arg" in
        --no-build) build=0 ;;
        -h | --help)
            sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "demo.sh: unknown argument '$arg' (try --help)" >&2
            exit 2
            ;;
    esac
done

if ((build)); then
    bash scripts/build.sh --marketplace-only
fi
cargo build -q -p runner --bin mkt
bin="${CARGO_TARGET_DIR:-target}/debug/mkt"

state="$(mktemp -d "${TMPDIR:-/tmp}/mkt-demo.XXXXXX")"
trap 'rm -rf "$state"' EXIT
export MKT_STATE="$state"

# Echoes the command, shell-quoted where needed, then runs it.
mkt() {
    local shown="+ mkt"
    for word in "$@"; do
        if [[ "$word" =~ ^[A-Za-z0-9_./:=@%+-]+$ ]]; then
            shown+=" $word"
        else
            shown+=" '$word'"
        fi
    done
    printf '\n%s\n' "$shown"
    "$bin" "$@"
}

discover='(record { endpoint = "https://ironic.example" })'

echo "state directory: $state"
mkt deploy
mkt info
mkt call status
# No network here: the outcall is refused and the canister answers with its typed error.
mkt call ironic_discover "$discover"
# Controllers only: anyone else gets NotAuthorized.
mkt call ironic_discover "$discover" --caller anonymous
mkt advance-time 2h
mkt call status
mkt upgrade
mkt call status --output json
