#!/usr/bin/env bash
# Builds and deploys the marketplace canister with icp-cli (`icp deploy`, icp.yaml), with the
# init argument icp.yaml names (candid/init.did: the configuration, every default written out),
# then prints the canister id, how to call it and the web app's URL.
#
#   scripts/icp-deploy.sh                      the `local` environment (`icp network start -d` first)
#   scripts/icp-deploy.sh --environment ic     mainnet (or an environment of icp.yaml)
#
# icp.yaml gives init_args only, which icp-cli passes at install and at upgrade alike: after
# every deploy the configuration is what the file says.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

environment=local
while (($#)); do
    case "$1" in
        -e | --environment | --network)
            environment="${2:?icp-deploy.sh: $1 needs a value}"
            shift 2
            ;;
        --environment=* | --network=*)
            environment="${1#*=}"
            shift
            ;;
        -h | --help)
            sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "icp-deploy.sh: unknown argument '$1' (try --help)" >&2
            exit 2
            ;;
    esac
done

if ! command -v icp >/dev/null 2>&1; then
    echo "icp-deploy.sh: icp (icp-cli) is not installed (or not on PATH)." >&2
    echo "  Install it: npm install -g @icp-sdk/icp-cli @icp-sdk/ic-wasm" >&2
    echo "  (see https://cli.internetcomputer.org), or deploy with dfx: scripts/dfx-deploy.sh" >&2
    exit 127
fi
if [[ ! -f candid/init.did ]]; then
    echo "icp-deploy.sh: candid/init.did (icp.yaml's init_args) is missing" >&2
    exit 1
fi

# icp deploy runs the build steps of icp.yaml (scripts/build.sh --marketplace-only), creates
# the canister if needed, then installs or upgrades it with init_args.
icp deploy marketplace --environment "$environment"

id="$(icp canister status marketplace --environment "$environment" --id-only)"
echo
echo "marketplace: $id (environment $environment)"
echo "  icp canister call marketplace status --environment $environment"
if [[ "$environment" == ic ]]; then
    echo "  the web app: https://$id.icp0.io/"
else
    # icp-cli's local network gateway listens on port 8000 unless icp.yaml sets another.
    echo "  the web app: http://$id.localhost:8000/ (the local gateway's port; icp deploy prints it too)"
fi
echo "  (the interface is candid/marketplace.did, also in the wasm's public candid:service metadata)"
