#!/usr/bin/env bash
# Fuzzes the canister's input handling with cargo-fuzz on the stable toolchain (no sanitizer:
# `--sanitizer none`; Rust's own checks, debug assertions and overflow checks find the bugs).
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Targets (fuzz/fuzz_targets): csv_import, search_query, candid_args; all by default, one after
# the other, each for SECONDS_PER_TARGET seconds (default 60). Installs cargo-fuzz if missing.
# Prints one line per target and writes the same lines, and a summary line, to
# target/hardening/fuzz.txt:
#
#   fuzz csv_import: executions=123456 crashes=0 seconds=60
#   fuzz: csv_import=123456/0 search_query=.../0 candid_args=.../0
#
# Exits non-zero when a target crashes (or fails to run), naming the crash artifact
# (fuzz/artifacts/<target>/crash-…); reproduce with
# `cd fuzz && cargo fuzz run --sanitizer none <target> artifacts/<target>/crash-…`.
#
# Seeds are fuzz/corpus/<target> (committed); what fuzzing adds goes to fuzz/corpus-new/<target>
# (git-ignored), which later runs start from too. Environment:
#   FUZZ_ARGS   extra libFuzzer flags, e.g. "-runs=10000000" (stop after that many executions)
#               or "-fork=2"; given after the script's own, so they win.
#   FUZZ_NICE   niceness of the fuzzing processes (default 10: the build and fuzzing yield to
#               other work on the machine).
#   FUZZ_LOG_DIR  where each target's full libFuzzer log goes (default target/hardening/fuzz-logs).
#   FUZZ_OUT    the summary file (default target/hardening/fuzz.txt).
#   FUZZ_NO_BUILD=1  run the binaries already built (with FUZZ_BIN_DIR: copies of them, so a long
#               run is not disturbed by rebuilds), default fuzz/target/<host>/release.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-60}
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(csv_import search_query candid_args)
fi
nice_level=${FUZZ_NICE:-10}
out_dir="$root/target/hardening"
log_dir=${FUZZ_LOG_DIR:-$out_dir/fuzz-logs}
out_file=${FUZZ_OUT:-$out_dir/fuzz.txt}
mkdir -p "$out_dir" "$log_dir" "$(dirname "$out_file")"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

cd "$root/fuzz"
host=$(rustc -vV | sed -n 's/^host: //p')
bin_dir=${FUZZ_BIN_DIR:-$root/fuzz/target/$host/release}
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    echo "fuzz: building ${targets[*]}" >&2
    for target in "${targets[@]}"; do
        nice -n "$nice_level" cargo fuzz build --sanitizer none "$target"
    done
fi

lines=()
summary="fuzz:"
failed=0
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "corpus-new/$target" "artifacts/$target"
    log="$log_dir/$target.log"
    echo "fuzz: running $target for ${seconds}s (log: $log)" >&2
    start=$(date +%s)
    status=0
    # What `cargo fuzz run` runs, without its second look at the build (the crate may have
    # changed under us meanwhile). The first corpus dir receives new inputs: the git-ignored
    # one. Extra flags last.
    # shellcheck disable=SC2086
    nice -n "$nice_level" "$bin_dir/$target" -artifact_prefix="$root/fuzz/artifacts/$target/" \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        ${FUZZ_ARGS:-} "corpus-new/$target" "corpus/$target" >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))
    # The final stats of the run (with -fork, the last "#N DONE"/"#N" status line counts all).
    executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
    if [ -z "$executions" ]; then
        executions=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
    fi
    executions=${executions:-0}
    artifacts=$(grep -oE "Test unit written to [^ ]+" "$log" | awk '{print $5}' || true)
    crashes=$(printf '%s' "$artifacts" | grep -c . || true)
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        # Failed without an artifact (build or setup error, or a crash in a forked child).
        crashes=$(grep -cE "ERROR: libFuzzer|panicked at" "$log" || true)
        [ "$crashes" -gt 0 ] || crashes=1
    fi
    line="fuzz $target: executions=$executions crashes=$crashes seconds=$elapsed"
    echo "$line"
    lines+=("$line")
    summary="$summary $target=$executions/$crashes"
    if [ "$crashes" -gt 0 ] || [ "$status" -ne 0 ]; then
        failed=1
        for artifact in $artifacts; do
            case "$artifact" in /*) ;; *) artifact="$root/fuzz/$artifact" ;; esac
            echo "fuzz $target: crash artifact $artifact"
            echo "fuzz $target: reproduce: (cd fuzz && cargo fuzz run --sanitizer none $target $artifact)"
            lines+=("fuzz $target: crash artifact $artifact")
        done
        grep -m 3 -A 2 "panicked at" "$log" | sed "s/^/fuzz $target: /" || true
        echo "fuzz $target: full log $log"
    fi
done

{
    printf '%s\n' "${lines[@]}"
    echo "$summary"
} >"$out_file"
echo "$summary"
exit "$failed"
