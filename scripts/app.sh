#!/usr/bin/env bash
# Opens the web app on this machine, with no replica: builds the wasm (which embeds the app),
# deploys it into the local state directory (MKT_STATE, default .mkt; an existing canister is
# upgraded, keeping its state), and serves it with `mkt serve` on 127.0.0.1:4943 until Ctrl-C.
# The app is at http://<canister id>.localhost:4943/ (printed; opened in a browser when
# xdg-open or open exists). Sign in with a dev key kept in the browser.
#
#   scripts/app.sh [--port N] [--no-build]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

port=4943
build=1
while (($#)); do
    case "$1" in
        --port) port="${2:?app.sh: --port needs a value}"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "app.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done

if ((build)); then bash scripts/build.sh --marketplace-only; fi
cargo build -q -p runner --bin mkt
mkt="${CARGO_TARGET_DIR:-target}/debug/mkt"
state="${MKT_STATE:-.mkt}"
if [[ -d "$state" ]] && "$mkt" --state "$state" info >/dev/null 2>&1; then
    "$mkt" --state "$state" upgrade
else
    "$mkt" --state "$state" deploy
fi

open_when_ready() {
    local url=""
    while IFS= read -r line; do
        echo "$line"
        if [[ "$line" =~ ^mkt\ serve:\ the\ web\ app\ at\ (http://[^ ]+) ]]; then
            url="${BASH_REMATCH[1]}"
            if command -v xdg-open >/dev/null; then xdg-open "$url" >/dev/null 2>&1 || true
            elif command -v open >/dev/null; then open "$url" || true
            fi
        fi
    done
}
"$mkt" --state "$state" serve --port "$port" | open_when_ready
