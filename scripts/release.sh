#!/usr/bin/env bash
# Builds the release module and writes what it takes to deploy exactly that module: its SHA-256
# and a dfx.json and an icp.yaml snippet that install it as built, with the init argument.
#
#   scripts/release.sh                     build, then write target/release-notes/ and print the notes
#   scripts/release.sh --url BASE          the snippets fetch the files from BASE/<file> (e.g. a
#                                          release's download URL) instead of reading them locally
#   scripts/release.sh --no-build          use the module scripts/build.sh already wrote
#   scripts/release.sh --out DIR           write the outputs to DIR (default target/release-notes)
#   scripts/release.sh --untested          release a module no passing scripts/test.sh ran (the
#                                          notes say so)
#
# The module is target/wasm/marketplace.wasm.gz, the file every test runs. Only a module the
# whole suite passed with is released: scripts/test.sh keeps its SHA-256 in
# target/wasm/marketplace.wasm.gz.tested, and a module with another hash is refused. The
# compiler is pinned by rust-toolchain.toml, so the same commit builds the same bytes: a rebuild
# after the tests passes. The SHA-256 is the module hash `dfx canister info` and
# `icp canister status` show once it is installed.
#
# Outputs, in target/release-notes/ (or --out):
#   marketplace-VERSION.wasm.gz      the module
#   marketplace-VERSION.did          its interface (the same text as its candid:service metadata)
#   marketplace-VERSION-init.did     the init argument (candid/init.did)
#   marketplace-VERSION.md           the notes printed on stdout: hash, commit, the two snippets
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

url=""
build=1
out=target/release-notes
untested=0
while (($#)); do
    case "$1" in
        --url)
            url="${2:?release.sh: --url needs a value}"
            url="${url%/}"
            shift 2
            ;;
        --url=*)
            url="${1#*=}"
            url="${url%/}"
            shift
            ;;
        --no-build)
            build=0
            shift
            ;;
        --out)
            out="${2:?release.sh: --out needs a value}"
            shift 2
            ;;
        --untested)
            untested=1
            shift
            ;;
        -h | --help)
            sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "release.sh: unknown argument '$1' (try --help)" >&2
            exit 2
            ;;
    esac
done

if ((build)); then
    bash scripts/build.sh --marketplace-only >&2
fi
wasm=target/wasm/marketplace.wasm.gz
if [[ ! -f "$wasm" ]]; then
    echo "release.sh: $wasm is missing: run scripts/build.sh (or drop --no-build)" >&2
    exit 1
fi

sha256() {
    if command -v sha256sum >/dev/null; then
        sha256sum "$1" | cut -d' ' -f1
    else
        shasum -a 256 "$1" | cut -d' ' -f1
    fi
}

# RELEASE_TESTED_FILE: where the tested hash is read (a test of this script points it elsewhere).
tested_file="${RELEASE_TESTED_FILE:-target/wasm/marketplace.wasm.gz.tested}"
module_hash="$(sha256 "$wasm")"
tested_note="- tested: \`scripts/test.sh\` passed with this module"
if [[ "$(cat "$tested_file" 2>/dev/null || true)" != "$module_hash" ]]; then
    if ((!untested)); then
        echo "release.sh: no passing scripts/test.sh ran this module ($module_hash);" >&2
        echo "            run scripts/test.sh first (or pass --untested)" >&2
        exit 1
    fi
    tested_note="- tested: **no**, released with \`--untested\`"
fi

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
commit="$(git rev-parse HEAD 2>/dev/null || echo unknown)"
dirty=""
if [[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]]; then
    dirty=" (with uncommitted changes: this build cannot be reproduced from the commit alone)"
fi

name="marketplace-$version"
mkdir -p "$out"
cp "$wasm" "$out/$name.wasm.gz"
cp candid/marketplace.did "$out/$name.did"
cp candid/init.did "$out/$name-init.did"
hash="$(sha256 "$out/$name.wasm.gz")"

if [[ -n "$url" ]]; then
    wasm_ref="$url/$name.wasm.gz"
    did_ref="$url/$name.did"
    icp_source="url: $wasm_ref"
else
    wasm_ref="$name.wasm.gz"
    did_ref="$name.did"
    icp_source="path: $name.wasm.gz"
fi

notes="$out/$name.md"
cat >"$notes" <<EOF
# marketplace $version

- module: \`$name.wasm.gz\` ($(wc -c <"$out/$name.wasm.gz" | tr -d ' ') bytes)
- SHA-256: \`$hash\`
- commit: \`$commit\`$dirty
- rustc: \`$(rustc --version)\`
$tested_note

After installing, the module hash must be the SHA-256 above:

\`\`\`bash
dfx canister info marketplace          # "Module hash: 0x$hash"
icp canister status marketplace        # its module hash
\`\`\`

## dfx.json

With \`$name.did\` and \`$name-init.did\` beside dfx.json$([[ -z "$url" ]] && echo " and the module too"). No
\`build\` and no \`metadata\` block, so dfx installs the module as it is:

\`\`\`json
{
  "version": 1,
  "canisters": {
    "marketplace": {
      "type": "custom",
      "wasm": "$wasm_ref",
      "candid": "$did_ref",
      "init_arg_file": "$name-init.did"
    }
  }
}
\`\`\`

## icp.yaml

icp-cli checks the module against the SHA-256 before installing it:

\`\`\`yaml
canisters:
  - name: marketplace
    build:
      steps:
        - type: pre-built
          $icp_source
          sha256: $hash
    init_args:
      path: $name-init.did
      format: candid
\`\`\`
EOF

cat "$notes"
echo >&2
echo "release.sh: wrote $out/{$name.wasm.gz,$name.did,$name-init.did,$name.md}" >&2
