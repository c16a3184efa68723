#!/usr/bin/env bash
# The whole test suite in one command: builds the wasm the end-to-end tests load
# (scripts/build.sh), runs the doc tests and every workspace test, then the suites outside cargo:
# the TypeScript bindings' node test (scripts/js-test.sh), the web app in Chromium
# (scripts/web-test.sh) and mkt-mcp through the MCP Python SDK (mcp/tests/python/run.sh).
# A suite whose tool is missing here (Chromium, python3 with venv) is skipped with a line saying
# so, except under CI=true, where it fails.
# Extra arguments go to the test runner and run only the cargo tests, e.g.
# `scripts/test.sh -E 'test(upgrade)'` (nextest) or `scripts/test.sh upgrade` (cargo test filter).
# The hardening tests write their figures (cases, cells, executions, violations) to
# target/hardening/*.txt; they are printed before the count.
# The last line is a plain count, `tests: N passed, M failed`, also kept in target/test-summary.
# When everything passed, the SHA-256 of the wasm the tests ran is kept in
# target/wasm/marketplace.wasm.gz.tested: scripts/release.sh releases only that module.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build.sh

# Doc tests first (nextest does not run them), so the main run's count closes the output.
cargo test --workspace --doc --quiet

log="target/test-run.log"
summary="target/test-summary"
tested="target/wasm/marketplace.wasm.gz.tested"
rm -f "$summary" "$tested"
rm -rf target/hardening
status=0
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-tests=fail "$@" 2>&1 | tee "$log" || status=$?
    line="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ *Summary' | tail -n1 || true)"
    passed="$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
    failed="$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0)"
else
    echo "test.sh: cargo-nextest not found, falling back to cargo test" >&2
    echo "         (install it with: cargo install cargo-nextest --locked)" >&2
    cargo test --workspace --all-targets "$@" 2>&1 | tee "$log" || status=$?
    results="$(grep -E '^test result:' "$log" || true)"
    passed="$(grep -oE '[0-9]+ passed' <<<"$results" | grep -oE '[0-9]+' | awk '{s += $1} END {print s + 0}')"
    failed="$(grep -oE '[0-9]+ failed' <<<"$results" | grep -oE '[0-9]+' | awk '{s += $1} END {print s + 0}')"
fi
if [[ "${passed:-0}" -eq 0 && "$status" -eq 0 ]]; then
    echo "test.sh: no test ran" >&2
    status=1
fi
# The suites outside cargo, on the whole run only (a filter asks for some cargo tests).
suites=()
if (($# == 0)); then
    # Runs one suite unless its tool is missing (then skipped, or failed under CI=true).
    suite() {
        local name="$1" missing="$2"
        shift 2
        if [[ -n "$missing" ]]; then
            if [[ "${CI:-}" == "true" ]]; then
                echo "test.sh: $name: $missing" >&2
                suites+=("$name: FAILED ($missing)")
                status=1
            else
                echo "test.sh: $name skipped: $missing" >&2
                suites+=("$name: skipped ($missing)")
            fi
            return
        fi
        echo "== $name =="
        local started=$SECONDS
        if "$@"; then
            suites+=("$name: passed in $((SECONDS - started)) s")
        else
            suites+=("$name: FAILED after $((SECONDS - started)) s")
            status=1
        fi
    }
    suite "js bindings + node test" "" bash scripts/js-test.sh
    chrome="${CHROMIUM:-/usr/bin/chromium}"
    suite "web app in Chromium" "$([[ -x "$chrome" ]] || echo "no Chromium at $chrome (Debian: apt-get install chromium)")" \
        bash scripts/web-test.sh --no-build
    suite "mkt-mcp through the MCP Python SDK" \
        "$(python3 -c 'import venv' 2>/dev/null || echo "no python3 with venv")" \
        bash mcp/tests/python/run.sh
fi
if compgen -G "target/hardening/*.txt" >/dev/null; then
    echo "== hardening figures =="
    cat target/hardening/*.txt
fi
for line in "${suites[@]}"; do
    echo "$line"
done
if [[ "$status" -eq 0 && $# -eq 0 ]]; then
    sha256sum target/wasm/marketplace.wasm.gz | cut -d' ' -f1 >"$tested"
fi
echo "tests: ${passed:-0} passed, ${failed:-0} failed" | tee "$summary"
exit "$status"
