#!/bin/sh
# Usage: tests/fuzz/run.sh [SECONDS]   (default 60)
# Build the harnesses (tests/fuzz/build.sh), then run each for SECONDS
# seconds on its working corpus build-fuzz/corpus/NAME (the seeds from
# tests/fuzz/corpus/NAME are copied in first; what the fuzzer finds stays
# there for the next run). Crash inputs go to build-fuzz/crashes/NAME/, logs
# to build-fuzz/NAME.log. Prints one line per harness; exits 1 if any
# harness crashed, leaked or timed out.
set -u
cd "$(dirname "$0")/../.."
SECS=${1:-60}
tests/fuzz/build.sh >build-fuzz.build.log 2>&1 || { cat build-fuzz.build.log; exit 2; }
mv build-fuzz.build.log build-fuzz/build.log

max_len() {
    case $1 in
        journal) echo 16384 ;;
        model) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

fail=0
for name in idx csv space journal model; do
    bin=build-fuzz/fuzz_$name
    work=build-fuzz/corpus/$name
    crashes=build-fuzz/crashes/$name
    mkdir -p "$work" "$crashes"
    cp tests/fuzz/corpus/$name/* "$work"/ 2>/dev/null
    log=build-fuzz/$name.log
    # libFuzzer's default 2048 MB rss limit: a loader that reserves what a
    # header promises before reading it is reported as out-of-memory
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$bin" -max_total_time="$SECS" -max_len="$(max_len $name)" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    units=$(ls "$work" | wc -l)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        result="FAILED (exit $rc; $(ls "$crashes" | tr '\n' ' ')see $log)"
        fail=1
    fi
    printf 'fuzz_%-8s %6s s  %10s execs  cov %5s  corpus %5s  %s\n' \
        "$name" "$SECS" "${execs:-?}" "${cov:-?}" "$units" "$result"
done
exit $fail
