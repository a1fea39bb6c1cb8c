#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every fuzz target for a bounded time, one after another, and fails on
# any crash, leak, timeout, sanitizer report or violated invariant. Prints the
# executions per second of each target.
#   tests/fuzz/run.sh [seconds-per-target [build-dir [target...]]]
#   (default 40 s each, <repo>/build-fuzz, every target in targets.cmake)
# Environment: FUZZ_BUILD_DIR (the build dir, if not given), FUZZ_ARGS (extra
# libFuzzer flags). Findings are left in <build-dir>/fuzz-artifacts/<target>/;
# copy them to tests/fuzz/regressions/<target>/ so that tst_fuzzreplay keeps
# them fixed.
set -eu
seconds=${1:-40}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${2:-${FUZZ_BUILD_DIR:-$repo/build-fuzz}}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac
[ $# -gt 2 ] && shift 2 || set --
targets=${*:-$(sed -n 's/^set(BLIGHT_FUZZ_TARGETS \(.*\))$/\1/p' "$here/targets.cmake")}
[ -n "$targets" ] || { echo "run.sh: no targets found in $here/targets.cmake" >&2; exit 2; }

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# CPU seconds (user + system) used so far by the children of this shell,
# into $cpuNow: exec/s alone says more about the machine's load than about the
# target. `times` runs in this shell (not in a $(...) subshell, whose children
# are not the fuzzers) and writes to a file.
childCpu() {
    times >"$build/.run-sh-times"
    cpuNow=$(tail -n 1 "$build/.run-sh-times" | awk '{
        s = 0
        for (i = 1; i <= 2; ++i) { split($i, p, "m"); sub("s", "", p[2]); s += p[1] * 60 + p[2] }
        printf "%.2f", s
    }')
    rm -f "$build/.run-sh-times"
}

failed=""
summary=""
for target in $targets; do
    binary=$build/tests/fuzz/$target
    if [ ! -x "$binary" ]; then
        echo "run.sh: $binary not found; build it first:" >&2
        echo "  cmake --preset fuzz && cmake --build --preset fuzz" >&2
        exit 2
    fi
    work=$build/fuzz-corpus/$target         # grows across runs; the seeds stay read-only
    artifacts=$build/fuzz-artifacts/$target
    log=$build/fuzz-$target.log
    mkdir -p "$work" "$artifacts"
    # Streams over the 64 KiB staging buffer need long inputs; the other
    # parsers take a datagram, a control buffer or a string. An assembler
    # input at the 16 MiB cap can cost a millisecond (an mmap of a claimed
    # payload once 64 KiB of it arrived, under ASan): such inputs stay in the
    # corpus and run, but the schedule weighs inputs by their execution time
    # so they do not crowd out the cheap ones.
    case $target in
    fuzz_assembler) limits="-max_len=200000 -entropic_scale_per_exec_time=1" ;;
    *) limits="-max_len=4096" ;;
    esac
    status=0
    childCpu
    before=$cpuNow
    # shellcheck disable=SC2086
    (cd "$build" && "$binary" "$work" "$here/corpus/$target" "$here/regressions/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 $limits \
        -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-}) >"$log" 2>&1 || status=$?
    childCpu
    cpu=$(awk -v a="$before" -v b="$cpuNow" 'BEGIN { printf "%.1f", b - a }')
    findings=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    coverage=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
    if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ] \
        || grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant violated' "$log"; then
        tail -n 40 "$log"
        echo "run.sh: $target FAILED (exit $status, $findings artifacts in $artifacts); full log: $log" >&2
        failed="$failed $target"
        line="$target: FAILED"
    else
        perCpu=$(awk -v e="${execs:-0}" -v c="$cpu" 'BEGIN { printf "%d", (c > 0 ? e / c : 0) }')
        line="$target: clean, ${execs:-0} executions in ${seconds}s, ${rate:-0} exec/s, $perCpu per CPU second (${cpu} s of CPU), ${coverage:-no coverage line}"
    fi
    echo "run.sh: $line"
    summary="$summary$line
"
done
printf '\nrun.sh: per target\n%s' "$summary"
if [ -n "$failed" ]; then
    echo "run.sh: FAILED:$failed" >&2
    exit 1
fi
echo "run.sh: every target clean: no crash, leak, timeout or sanitizer report"
