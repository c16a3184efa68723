#!/usr/bin/env bash
# Builds and deploys the marketplace canister with dfx, with the init argument in
# candid/init.did (the configuration, every default written out; dfx.json names the same file
# as init_arg_file), then prints the canister id, the web app's URL and where the Candid UI is.
#
#   scripts/dfx-deploy.sh                  the local replica (start it with `dfx start --background`)
#   scripts/dfx-deploy.sh --network ic     mainnet (or any network of dfx.json / networks.json)
#   scripts/dfx-deploy.sh --argument-file FILE   another init argument (Candid text)
#
# The argument is passed on upgrades too: the canister's post_upgrade applies the fields given,
# so after every deploy the configuration is what the file says.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

network=local
arg_file=candid/init.did
while (($#)); do
    case "$1" in
        --network)
            network="${2:?dfx-deploy.sh: --network needs a value}"
            shift 2
            ;;
        --network=*)
            network="${1#--network=}"
            shift
            ;;
        --argument-file)
            arg_file="${2:?dfx-deploy.sh: --argument-file needs a value}"
            shift 2
            ;;
        -h | --help)
            sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "dfx-deploy.sh: unknown argument '$1' (try --help)" >&2
            exit 2
            ;;
    esac
done

if ! command -v dfx >/dev/null 2>&1; then
    echo "dfx-deploy.sh: dfx is not installed (or not on PATH)." >&2
    echo "  Install it: sh -ci \"\$(curl -fsSL https://internetcomputer.org/install.sh)\"" >&2
    echo "  (see https://internetcomputer.org/docs/building-apps/getting-started/install)," >&2
    echo "  or deploy with icp-cli: scripts/icp-deploy.sh" >&2
    exit 127
fi
if [[ ! -f "$arg_file" ]]; then
    echo "dfx-deploy.sh: the init argument file $arg_file is missing" >&2
    exit 1
fi

# dfx deploy runs the `build` of dfx.json (scripts/build.sh --marketplace-only), creates the
# canister if needed, then installs or upgrades it with the argument.
dfx deploy marketplace --network "$network" --argument-file "$arg_file"

id="$(dfx canister id marketplace --network "$network")"
echo
echo "marketplace: $id (network $network)"
echo "  dfx canister call --network $network marketplace status"
if [[ "$network" == local ]]; then
    port="$(dfx info webserver-port 2>/dev/null || echo 4943)"
    echo "  the web app: http://$id.localhost:$port/ (or http://127.0.0.1:$port/?canisterId=$id)"
    ui="$(dfx canister id __Candid_UI --network local 2>/dev/null || true)"
    if [[ -n "$ui" ]]; then
        echo "  Candid UI: http://127.0.0.1:$port/?canisterId=$ui&id=$id"
    else
        echo "  Candid UI: the URL dfx deploy printed above (its 'Backend canister via Candid interface')"
    fi
else
    echo "  the web app: https://$id.icp0.io/"
    echo "  Candid UI: https://a4gq6-oaaaa-aaaab-qaa4q-cai.raw.icp0.io/?id=$id"
fi
echo "  (every method with its types, read from the wasm's candid:service metadata)"
