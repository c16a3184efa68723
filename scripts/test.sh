#!/usr/bin/env bash
# The whole test suite in one command: builds the wasm the end-to-end tests load
# (scripts/build.sh), runs the doc tests, then every workspace test.
# Extra arguments go to the test runner, e.g. `scripts/test.sh -E 'test(upgrade)'` (nextest)
# or `scripts/test.sh upgrade` (cargo test filter).
# The hardening tests write their figures (cases, cells, executions, violations) to
# target/hardening/*.txt; they are printed before the count.
# The last line is a plain count, `tests: N passed, M failed`, also kept in target/test-summary.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/build.sh

# Doc tests first (nextest does not run them), so the main run's count closes the output.
cargo test --workspace --doc --quiet

log="target/test-run.log"
summary="target/test-summary"
rm -f "$summary"
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
if compgen -G "target/hardening/*.txt" >/dev/null; then
    echo "== hardening figures =="
    cat target/hardening/*.txt
fi
echo "tests: ${passed:-0} passed, ${failed:-0} failed" | tee "$summary"
exit "$status"
