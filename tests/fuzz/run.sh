#!/bin/sh
# Runs the receive-path fuzzer for a bounded time and fails on any crash,
# leak, timeout or sanitizer report.
#   tests/fuzz/run.sh [seconds [build-dir]]    (default 60 s, <repo>/build-fuzz)
# Environment: FUZZ_BUILD_DIR (the build dir, if not given), FUZZ_JOBS (default 1),
# FUZZ_ARGS (extra libFuzzer flags). Findings are left in <build-dir>/fuzz-artifacts/;
# copy them to tests/fuzz/regressions/ so that tst_fuzzreplay keeps them fixed.
set -eu
seconds=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${2:-${FUZZ_BUILD_DIR:-$repo/build-fuzz}}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
jobs=${FUZZ_JOBS:-1}
binary=$build/tests/fuzz/fuzz_assembler
if [ ! -x "$binary" ]; then
    echo "run.sh: $binary not found; build it first:" >&2
    echo "  cmake --preset fuzz && cmake --build --preset fuzz" >&2
    exit 2
fi
work=$build/fuzz-corpus        # grows across runs; the seeds stay read-only
artifacts=$build/fuzz-artifacts
mkdir -p "$work" "$artifacts"
cd "$build"
log=$build/fuzz-run.log
: > "$log"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
status=0
# shellcheck disable=SC2086
"$binary" "$work" "$here/corpus" "$here/regressions" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=200000 \
    -jobs="$jobs" -workers="$jobs" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} >>"$log" 2>&1 || status=$?
if [ "$jobs" -gt 1 ]; then
    cat fuzz-*.log >>"$log" 2>/dev/null || true
    rm -f fuzz-*.log
fi
tail -n 25 "$log"
findings=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ] \
    || grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant violated' "$log"; then
    echo "run.sh: FAILED (exit $status, $findings artifacts in $artifacts); full log: $log" >&2
    exit 1
fi
execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rate=$(grep -Eo 'stat::average_exec_per_sec: *[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo "run.sh: clean: $execs executions in ${seconds}s ($rate exec/s), no crash, leak or sanitizer report"
