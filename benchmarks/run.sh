#!/usr/bin/env bash
# benchmarks/run.sh - what `make bench` runs (after `make` has built
# build/libnntune.a). Builds the benchmark and the library example against
# the static library, runs them, and writes benchmarks/results.md (a table
# with the machine it ran on) and benchmarks/results.csv (every number).
#
#   BENCH_RUNS=3       timed runs per measurement (the median is reported)
#   BENCH_PROFILE=1    also profile 5 epochs at batch 128 with perf and add
#                      the top functions to results.md (needs perf)
#
# Takes 1-2 minutes on a 2-core machine. Timing is wall clock: run it
# on an otherwise idle machine (results.md records the load average).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${BENCH_RUNS:-3}
CC=${CC:-gcc}
CFLAGS="-std=c11 -O2 -march=native -fno-math-errno -Wall -Wextra -Wshadow -Iinclude -I/usr/include/x86_64-linux-gnu/openblas-pthread"
LIBS="build/libnntune.a -lopenblas -lcjson -lz -lm -fopenmp"
WORK=build/bench
CSV=$WORK/results.csv
mkdir -p "$WORK"

if [ ! -f build/libnntune.a ]; then
    echo "run.sh: build/libnntune.a is missing; run 'make' first" >&2
    exit 1
fi

echo "== building benchmarks"
$CC $CFLAGS benchmarks/bench_epoch.c $LIBS -o build/bench_epoch
$CC $CFLAGS benchmarks/tune_own_objective.c $LIBS -o build/tune_own_objective

echo "== library example: tuning a C function with the Bayesian strategy"
./build/tune_own_objective > "$WORK/tune_own_objective.txt"
tail -n 3 "$WORK/tune_own_objective.txt"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# How idle the CPUs are right now (the load average lags by a minute):
# idle share of all CPU time over 2 s, from /proc/stat.
cpu_idle() { awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
read -r idle1 total1 < <(cpu_idle)
sleep 2
read -r idle2 total2 < <(cpu_idle)
idle_pct=$(( 100 * (idle2 - idle1) / (total2 - total1 + 1) ))
busy=$(( idle_pct < 85 ? 1 : 0 ))
if [ "$busy" = 1 ]; then
    echo "run.sh: warning: the CPUs are only ${idle_pct}% idle; other processes will" \
         "slow the runs down (the 2-thread rows most)" >&2
fi
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
rm -f "$CSV"
./build/bench_epoch --info > "$WORK/info.txt"

echo "== epoch time, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} (as the environment sets it)"
./build/bench_epoch --batches 32,64,128,512 --threads 1,2 --runs "$RUNS" --csv "$CSV"

echo "== epoch time with AVX-512 kernels: OPENBLAS_CORETYPE=SkylakeX"
OPENBLAS_CORETYPE=SkylakeX ./build/bench_epoch --batches 128 --threads 1,2 --runs "$RUNS" --csv "$CSV"

echo "== epoch time with the core OpenBLAS detects itself (OPENBLAS_CORETYPE unset)"
env -u OPENBLAS_CORETYPE ./build/bench_epoch --batches 128 --threads 1,2 --runs "$RUNS" --csv "$CSV"

echo "== two single-thread jobs at once (how --jobs 2 would use the cores)"
./build/bench_epoch --no-gemm --batches 128 --threads 1 --runs "$RUNS" > "$WORK/job1.txt" &
pid1=$!
./build/bench_epoch --no-gemm --batches 128 --threads 1 --runs "$RUNS" > "$WORK/job2.txt" &
pid2=$!
wait "$pid1" "$pid2"
job1=$(tail -n 1 "$WORK/job1.txt" | awk '{print $4}')
job2=$(tail -n 1 "$WORK/job2.txt" | awk '{print $4}')
echo "   per-epoch seconds of the two jobs: $job1 $job2"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)

profile_md=""
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
    echo "== perf profile, batch 128, 1 BLAS thread, 5 epochs"
    perf record -q -F 1000 --call-graph dwarf,16384 -o "$WORK/perf.data" \
        ./build/bench_epoch --profile-epochs 5 --batches 128 --threads 1 > /dev/null 2>&1
    perf script -i "$WORK/perf.data" -F ip,sym,dso 2> /dev/null > "$WORK/perf.txt"
    # Keep only samples under nt_train (not data loading); attribute each to
    # its innermost real function, and to the nntune function it is under.
    python3 - "$WORK/perf.txt" > "$WORK/profile.md" <<'EOF'
import collections, re, sys
leaf, owner = collections.Counter(), collections.Counter()
total = under = 0
def flush(stack):
    global total, under
    if not stack:
        return
    total += 1
    frames, pending = [], []
    for sym, dso in stack:          # inlined frames take the next real frame's dso
        if dso == 'inlined':
            pending.append(sym)
            continue
        frames += [(p, dso, True) for p in pending] + [(sym, dso, False)]
        pending = []
    if not any(s == 'nt_train' for s, _, _ in frames):
        return
    under += 1
    s, d, _ = next(f for f in frames if not f[2])
    leaf[f"{s} ({d.split('/')[-1]})"] += 1
    # skip inlined intrinsics and libc (_mm512_*, __memcpy_*): name the caller
    owner[next((s for s, d, _ in frames
                if 'bench_epoch' in d and not s.startswith('_')), '?')] += 1
stack = []
for line in open(sys.argv[1], errors='replace'):
    if not line.strip():
        flush(stack)
        stack = []
        continue
    m = re.match(r'\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$', line)
    if m:
        stack.append((re.sub(r'\+0x[0-9a-f]+$', '', m.group(1)), m.group(2)))
flush(stack)
gemm = sum(c for k, c in leaf.items() if k.startswith('sgemm_'))
print(f"{under} of {total} samples are under nt_train; sgemm kernels and packing "
      f"take {100 * gemm / under:.1f}% of them, everything else {100 - 100 * gemm / under:.1f}%.\n")
print("| share | function (self time) |\n|---:|---|")
for k, c in leaf.most_common(15):
    print(f"| {100 * c / under:.1f}% | `{k}` |")
print("\n| share | innermost nntune function (including what it calls) |\n|---:|---|")
for k, c in owner.most_common(10):
    print(f"| {100 * c / under:.1f}% | `{k}` |")
EOF
    rm -f "$WORK/perf.txt"  # large; perf.data stays for `perf report`
    profile_md="$WORK/profile.md"
    cat "$profile_md"
fi

cp "$CSV" benchmarks/results.csv

# results.md: machine, settings, the table, jobs against threads
info() { sed -n "s/^$1: //p" "$WORK/info.txt"; }
{
    echo "# nntune epoch benchmark"
    echo
    echo "One epoch over MNIST's 60,000 training images, 784-256-128-10, ReLU,"
    echo "dropout 0.2, Adam, no validation. **nntune** is a full epoch through"
    echo "\`nt_train\`; **GEMM-only** repeats just the \`cblas_sgemm\` calls of the"
    echo "same epoch (same shapes, order, alpha and beta) on preallocated buffers."
    echo "Times are the median of $RUNS runs after a warm-up run (min-max in"
    echo "brackets); ratio = nntune / GEMM-only; non-GEMM = 1 - GEMM-only / nntune."
    echo "Written by \`benchmarks/run.sh\` (\`make bench\`); see benchmarks/README.md."
    echo
    echo "- date: $started, commit $(git rev-parse --short HEAD 2> /dev/null || echo unknown)"
    echo "- CPU: $(info cpu), $(info 'logical cpus') logical CPUs, AVX-512: $(info avx512f)"
    echo "- OpenBLAS: $(info 'openblas config')"
    echo "- OpenBLAS core in use: $(info 'openblas core') (OPENBLAS_CORETYPE=$(info OPENBLAS_CORETYPE))"
    echo "- threads: BLAS threads set per row with openblas_set_num_threads();"
    echo "  OPENBLAS_NUM_THREADS=$(info OPENBLAS_NUM_THREADS); nntune itself runs one thread"
    echo "- compiler: $($CC --version | head -n 1), -O2 -march=native"
    echo "- CPUs ${idle_pct}% idle just before the runs; load average (1, 5, 15 min):"
    echo "  $load_before before, $load_after after (our own runs count in it)"
    if [ "$busy" = 1 ]; then
        echo "  (**busy machine**: other processes were running; expect noisy rows)"
    fi
    echo
    echo "| OpenBLAS core (OPENBLAS_CORETYPE) | BLAS threads | batch | steps | nntune s/epoch | GEMM-only s/epoch | ratio | non-GEMM share | GEMM GFLOP/s | nntune images/s | nntune CPU s |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F, 'NR > 1 {
        printf "| %s (%s) | %d | %d | %d | %.3f [%.3f-%.3f] | %.3f | %.2f | %.0f%% | %.0f | %d | %.3f |\n",
               $2, $1, $3, $4, $5, $6, $7, $8, $9, $11, 100 * $12, $13, $14, $15
    }' "$CSV"
    echo
    t2=$(awk -F, -v ct="${OPENBLAS_CORETYPE:-unset}" 'NR > 1 && $1 == ct && $3 == 2 && $4 == 128 { print $6; exit }' "$CSV")
    echo "**Jobs or threads** (batch 128, core from the environment): two"
    echo "single-thread processes at once took $job1 s and $job2 s per epoch, i.e."
    awk -v a="$job1" -v b="$job2" -v t="$t2" 'BEGIN {
        m = a > b ? a : b
        printf "%.2f epochs/s together, against %.2f epochs/s for one process with 2 BLAS threads (%s s/epoch).\n", 2 / m, 1 / t, t
    }'
    if [ -n "$profile_md" ]; then
        echo
        echo "## Profile (perf, batch 128, 1 BLAS thread, 5 epochs)"
        echo
        cat "$profile_md"
    fi
} > benchmarks/results.md

echo "== wrote benchmarks/results.md and benchmarks/results.csv"
cat benchmarks/results.md
