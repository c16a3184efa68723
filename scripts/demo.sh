#!/usr/bin/env bash
# Builds the canister and runs a short scenario on the local runner `mkt` (runner/), in a
# temporary state directory: deploy with a test ledger beside the market (a paying market),
# status, an Ironic discovery that fails with a typed error (the runner makes no network
# requests), then the market: a provider delegates an operator, registers a server (an Ironic
# node) and offers it, a consumer approves the market on the ledger, requests offers (each hold
# paying a refundable deposit), accepts one (the rest of the price pulled into escrow), and the
# lease runs on the canister's timer, its node deployed and later undeployed through the
# simulated Ironic (credentials sealed to the lessee and opened by it) to its end, where the
# provider is paid and the consumer reads the statement; an upgrade, and status again showing
# the state was kept.
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
    bash scripts/build.sh --ledger-only
fi
# MKT_BIN: an `mkt` already built (runner/tests/demo_script.rs runs the demo with its own).
if [[ -n "${MKT_BIN:-}" ]]; then
    bin="$MKT_BIN"
else
    cargo build -q -p runner --bin mkt
    bin="${CARGO_TARGET_DIR:-target}/debug/mkt"
fi

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

# Runs a call the canister must refuse: `mkt` exits non-zero on any `Err` reply, so the demo
# stops if it succeeds instead.
refused() {
    if mkt "$@"; then
        echo "demo.sh: that call should have been refused" >&2
        exit 1
    fi
    echo "(refused, as it should be)"
}

discover='(record { endpoint = "https://ironic.example" })'

ops=s6ely-d4zm2-yclie-fotzv-d7ttp-fffoy-t3nwx-j6s5t-p67tc-bodrq-7qe
alice=7a2bc-recr7-jwo3j-zk77y-nmy7c-3fll5-hgbus-jmgtq-ldmeo-mjcal-uqe

echo "state directory: $state"
# A test ledger (token TEST, 8 decimals, fee 10000) beside the market; alice starts with 1 TEST.
mkt deploy --ledger --mint "$alice=100000000"
mkt info
mkt call status
# No network here: the outcall is refused and the canister answers with its typed error.
refused call ironic_discover "$discover"
# Controllers only: anyone else gets NotAuthorized...
refused call ironic_discover "$discover" --caller wmzac-nabae-aqcai-baeaq-caiba-eaqca-ibaea-qcaib-aeaqc-aibae-aqc
# ...and the anonymous principal is turned away by inspect_message before the call runs.
refused call ironic_discover "$discover" --caller anonymous

# --- the market ---
# Every offer a consumer holds costs a refundable deposit of 0.01 TEST; the market keeps 2%,
# paid to a treasury account (here the runner's controller).
controller="$("$bin" info --json | sed -n '/"controllers"/{n;s/.*"\(.*\)".*/\1/p}')"
mkt call policies_set "(record { hold_deposit = opt 1000000; market_fee_basis_points = opt 200;
  treasury = opt record { owner = principal \"$controller\" } })"
mkt provider new-key "$state/provider.key"
mkt provider delegate --key "$state/provider.key" --principal "$ops"
key="$("$bin" provider show --key "$state/provider.key" --as-arg)"
mkt call inventory_register "(record { provider = $key; items = vec { record {
  resource_type = \"ironic_node\"; resource_uuid = \"node-1\"; sku = \"4D.large\";
  attributes = record { cores = 32; memory_mb = 262144; storage_gb = 4000; gpus = 0;
    resource_class = \"baremetal.large\"; routable_ips = 2; labels = vec {} } } } })" --caller "$ops"
now="$(date +%s)000000000"
day=86400000000000
mkt call offer_create "(record { provider = $key; item_id = 1; start_ns = $now;
  end_ns = $((now + 30 * day)); price_per_hour = 25000000; properties = vec {} })" --caller "$ops"
mkt call products
# Alice lets the market pull up to 0.6 TEST: the deposit, the 2-hour price, their fees.
mkt ledger approve --caller "$alice" --amount 60000000
mkt call offerset_request '(record { min_cores = opt 16; duration_seconds = 7200; image = "ubuntu-24.04" })' --caller "$alice"
mkt lessee new-key "$state/lessee.key"
lessee="$("$bin" lessee show --key "$state/lessee.key")"
mkt call execution_accept "(record { execution_id = 1; lessee_key = $lessee })" --caller "$alice"
# The price is in the lease's escrow (the deposit counted toward it).
mkt call execution_payment '(1)' --caller "$alice"
mkt ledger balance "$alice"
mkt advance-time 1m
mkt call contract_get '(1)' --caller "$alice"
# node-1 is an Ironic node: the lease's start deployed it (simulated Ironic, no network here).
mkt call provision_status '("node-1")' --caller "$alice"
sealed="$("$bin" provider seal --lessee-key "$lessee" --text 'ssh root@203.0.113.7 (demo credentials)')"
mkt call lease_set_consumer_meta "(record { provider = $key; execution_id = 1; sealed = $sealed })" --caller "$ops"
mkt lessee open --key "$state/lessee.key" --execution 1 --caller "$alice"
mkt call lease_get '(1)' --caller "$alice"
mkt advance-time 2h
mkt call execution_get '(1)' --caller "$alice"
# Settled: the provider's key was paid the price less the market's fee, alice holds the rest.
mkt call provider_payout "($key)"
provider_principal="$("$bin" provider show --key "$state/provider.key" --json |
    sed -n 's/.*"principal": "\(.*\)".*/\1/p')"
mkt ledger balance "$provider_principal"
mkt call payments_list '(record { role = variant { Consumer } })' --caller "$alice"
# Its end undeployed and cleaned the node.
mkt call provision_status '("node-1")' --caller "$alice"
mkt call audit_log '(record { entity = opt variant { Execution = 1 } })' --caller "$alice"
mkt call status
mkt upgrade
mkt call products
mkt call status --output json
