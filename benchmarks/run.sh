#!/usr/bin/env bash
# benchmarks/run.sh - what `make bench` runs (after `make` has built
# build/libnntune.a and ./nntune). Measures nntune and, in the same run on
# the same machine, what a user would otherwise reach for, and writes
# benchmarks/results.md (every comparison as a ratio, with the machine) and
# the raw numbers in benchmarks/results/*.csv:
#
#   1. epoch time against the GEMM-only time of the same shapes and threads
#   2. epoch time against PyTorch at batch 32/64/128/512, best settings
#   3. an 8-point grid search with 3-fold CV against scikit-learn's
#      GridSearchCV with MLPClassifier
#   4. bayes and random against Optuna's TPE and random on Branin and
#      Hartmann-6: best after 20 and 50 evaluations (10 seeds), optimizer
#      time per trial at 50 and 200 trials
#   5. peak memory (RSS) of a tuning run on MNIST
#
# Usage: bash benchmarks/run.sh [--full]
#   --full             5 timed runs per epoch measurement, and section 5 on
#                      the whole default study (`nntune --data mnist
#                      --strategy bayes`, about 27 minutes) instead of 60 s
#   BENCH_RUNS=3       timed runs per epoch measurement (median reported)
#   BENCH_PEERS=0      skip PyTorch, scikit-learn and Optuna (and their set-up)
#   BENCH_GRID_SEEDS=1,2,3,4,5  section 3's seeds: each tool's grid search
#                      runs once per seed (folds and initial weights)
#   BENCH_PROFILE=1    also profile 5 epochs at batch 128 with perf
#
# The peers come from Debian packages (python3-torch, python3-sklearn,
# python3-optuna), installed by benchmarks/peers/setup.sh, and run on
# Debian's /usr/bin/python3. About 10-11 minutes on a 2-core machine. Timing is
# wall clock: run it on an otherwise idle machine (results.md records how
# idle the CPUs were).
set -euo pipefail
cd "$(dirname "$0")/.."

FULL=0
for arg in "$@"; do
    case "$arg" in
        --full) FULL=1 ;;
        *) echo "run.sh: unknown option '$arg' (want --full)" >&2; exit 2 ;;
    esac
done
RUNS=${BENCH_RUNS:-$([ "$FULL" = 1 ] && echo 5 || echo 3)}
PEERS=${BENCH_PEERS:-1}
GRID_SEEDS=${BENCH_GRID_SEEDS:-1,2,3,4,5}
PY=/usr/bin/python3   # Debian's, which sees the python3-* packages
WORK=build/bench
CSV=$WORK/epoch.csv
t_start=$(date +%s)

if [ ! -f build/libnntune.a ] || [ ! -x nntune ]; then
    echo "run.sh: build/libnntune.a or ./nntune is missing; run 'make' first" >&2
    exit 1
fi
if [ ! -e data/mnist/train-images-idx3-ubyte ] && [ ! -e data/mnist/train-images-idx3-ubyte.gz ]; then
    echo "run.sh: data/mnist holds no MNIST; run 'make setup' first" >&2
    exit 1
fi
rm -rf "$WORK"
mkdir -p "$WORK"
if [ "$PEERS" = 1 ]; then
    echo "== peers: PyTorch, scikit-learn and Optuna from Debian's packages"
    bash benchmarks/peers/setup.sh
fi

echo "== building benchmarks"
make -s bench-programs  # build/bench_epoch, bench_strategies, tune_own_objective

echo "== library example: tuning a C function with the Bayesian strategy"
./build/tune_own_objective > "$WORK/tune_own_objective.txt"
tail -n 3 "$WORK/tune_own_objective.txt"

# A peer's Python script, run in a session of its own; then wait until every
# process it started has exited too. GridSearchCV's joblib workers and
# resource trackers outlive the script by one to two seconds, exiting, and
# in that time they took up to 9% (median 3%) of the next nntune grid
# search's time (benchmarks/README.md, item 32).
# (A session of its own is out of reach of the terminal's Ctrl-C, and a
# background job ignores SIGINT, so the traps stop it with SIGTERM.)
peer_pid=
peer() {
    setsid "$PY" "$@" &
    peer_pid=$!  # setsid does not fork here: this is the session's id
    trap 'kill -TERM -- -"$peer_pid" 2> /dev/null; exit 130' INT
    trap 'kill -TERM -- -"$peer_pid" 2> /dev/null; exit 143' TERM
    local rc=0
    wait "$peer_pid" || rc=$?
    trap - INT TERM  # a failed peer's traps must not outlive it either
    [ "$rc" -eq 0 ] || return "$rc"
    local t0=$SECONDS
    while pgrep -s "$peer_pid" > /dev/null; do sleep 0.05; done
    if [ $((SECONDS - t0)) -gt 0 ]; then
        echo "   (waited ~$((SECONDS - t0)) s for $(basename "$1")'s leftover processes)"
    fi
}

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
# the cores' distance now (a cache line's round trip), and again at the
# end: the sharded rows pay it each time activations cross
crosscore_before=$(./build/bench_crosscore)
# how far this core's caches reach now (the VM's share of the last-level
# cache moves with its neighbours, and the grid's speed with it)
cachelat_before=$(./build/bench_cachelat)
rm -f "$CSV"
./build/bench_epoch --info > "$WORK/info.txt"

echo "== 1. epoch time, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} (as the environment sets it)"
./build/bench_epoch --batches 32,64,128,512 --threads 1,2 --runs "$RUNS" --csv "$CSV"
./build/bench_epoch --batches 32,64,128,512 --threads 2 --parallel shards --runs "$RUNS" --csv "$CSV"
./build/bench_epoch --batches 32,64,128,512 --threads 2 --parallel shards-shared --runs "$RUNS" --csv "$CSV"

echo "== 1b. epoch time with nntune's sparse first layer (its default on MNIST)"
./build/bench_epoch --first-layer sparse --batches 32,64,128,512 --threads 1,2 --runs "$RUNS" --csv "$CSV"
./build/bench_epoch --first-layer sparse --batches 32,64,128,512 --threads 2 --parallel shards --runs "$RUNS" --csv "$CSV"

echo "== epoch time with AVX-512 kernels: OPENBLAS_CORETYPE=SkylakeX"
OPENBLAS_CORETYPE=SkylakeX ./build/bench_epoch --batches 128 --threads 1,2 --runs "$RUNS" --csv "$CSV"
OPENBLAS_CORETYPE=SkylakeX ./build/bench_epoch --batches 128 --threads 2 --parallel shards --runs "$RUNS" --csv "$CSV"

echo "== epoch time with the core OpenBLAS detects itself (OPENBLAS_CORETYPE unset)"
env -u OPENBLAS_CORETYPE ./build/bench_epoch --batches 128 --threads 1,2 --runs "$RUNS" --csv "$CSV"
env -u OPENBLAS_CORETYPE ./build/bench_epoch --batches 128 --threads 2 --parallel shards --runs "$RUNS" --csv "$CSV"

echo "== two single-thread jobs at once (how --jobs 2 uses the cores)"
./build/bench_epoch --no-gemm --batches 128 --threads 1 --runs "$RUNS" > "$WORK/job1.txt" &
pid1=$!
./build/bench_epoch --no-gemm --batches 128 --threads 1 --runs "$RUNS" > "$WORK/job2.txt" &
pid2=$!
wait "$pid1" "$pid2"
job1=$(tail -n 1 "$WORK/job1.txt" | awk '{print $4}')
job2=$(tail -n 1 "$WORK/job2.txt" | awk '{print $4}')
echo "   per-epoch seconds of the two jobs: $job1 $job2"

# before the Python peers: in one run, placed after them, this millisecond
# timing came out 1.5x what it was alone (cause not found)
echo "== 4. strategies on test functions: nntune"
./build/bench_strategies --csv "$WORK/strategies.csv" --timing-csv "$WORK/strategies_timing.csv"

if [ "$PEERS" = 1 ]; then
    echo "== 2. PyTorch: the same epoch at every thread setting"
    peer benchmarks/peers/torch_epoch.py --data data/mnist --runs "$RUNS" --csv "$WORK/torch.csv"
fi

echo "== 3. grid search, 8 configurations x 3 folds x 5 epochs on 20,000 images, seeds $GRID_SEEDS"
GRID_N=20000
GRID_JOBS=$(nproc)
"$PY" benchmarks/peers/mnist.py subset --data data/mnist --n "$GRID_N" --out "$WORK/mnist20k"
grid_cmd="nntune --data mnist20k --strategy grid --space benchmarks/grid8.txt --es-frac 0 --seed S"
# seed by seed, nntune's search and then GridSearchCV's at each n_jobs, so
# that a VM slowing down meanwhile slows both sides of the comparison
header=--header
for seed in ${GRID_SEEDS//,/ }; do
    t0=$(date +%s.%N)
    ./nntune --data "$WORK/mnist20k" --strategy grid --space benchmarks/grid8.txt --es-frac 0 \
        --seed "$seed" --jobs "$GRID_JOBS" --out "$WORK/grid8-$seed" --json --quiet > "$WORK/grid8-$seed.json"
    t1=$(date +%s.%N)
    "$PY" benchmarks/grid_row.py "$WORK/grid8-$seed.json" "$seed" "$GRID_JOBS" "$t0" "$t1" $header >> "$WORK/grid.csv"
    header=
    echo "   nntune: $(tail -n 1 "$WORK/grid.csv")"
    if [ "$PEERS" = 1 ]; then
        peer benchmarks/peers/sklearn_grid.py --data data/mnist --n "$GRID_N" --seeds "$seed" \
            --csv "$WORK/sklearn.csv"
        tail -n +2 "$WORK/sklearn.csv" >> "$WORK/grid.csv"
    fi
done

echo "== 4. strategies on test functions: Optuna (nntune's ran above)"
if [ "$PEERS" = 1 ]; then
    peer benchmarks/peers/optuna_functions.py --csv "$WORK/optuna.csv" \
        --timing-csv "$WORK/optuna_timing.csv"
fi

echo "== 5. peak memory of a tuning run on MNIST"
if [ "$FULL" = 1 ]; then rss_args=(--data mnist --strategy bayes)
else rss_args=(--data mnist --strategy bayes --time-budget 60s); fi
"$PY" benchmarks/peak_rss.py "$WORK/rss.csv" ./nntune "${rss_args[@]}" --out "$WORK/rss-run" --quiet

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
crosscore_after=$(./build/bench_crosscore)
cachelat_after=$(./build/bench_cachelat)

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

    cat "$WORK/profile.md"
fi

{
    echo "started: $started"
    echo "commit: $(git rev-parse --short HEAD 2> /dev/null || echo unknown)"
    echo "minutes: $(( ($(date +%s) - t_start + 30) / 60 ))"
    echo "compiler: $(${CC:-cc} --version | head -n 1)"
    echo "idle_pct: $idle_pct"
    echo "busy: $busy"
    echo "load_before: $load_before"
    echo "load_after: $load_after"
    echo "crosscore_before: $crosscore_before"
    echo "crosscore_after: $crosscore_after"
    echo "cachelat_before: $cachelat_before"
    echo "cachelat_after: $cachelat_after"
    echo "coretype: ${OPENBLAS_CORETYPE:-unset}"
    echo "job1: $job1"
    echo "job2: $job2"
    echo "grid_n: $GRID_N"
    echo "grid_cmd: $grid_cmd"
    echo "grid_seeds: $GRID_SEEDS"
    echo "full: $FULL"
    echo "profile: ${BENCH_PROFILE:-0}"
} > "$WORK/run.txt"

"$PY" benchmarks/report.py "$WORK" benchmarks/results.md
rm -f benchmarks/results.csv   # the single CSV of earlier versions
mkdir -p benchmarks/results
for f in epoch torch grid strategies strategies_timing optuna optuna_timing rss; do
    if [ -f "$WORK/$f.csv" ]; then cp "$WORK/$f.csv" benchmarks/results/; fi
done
echo "== wrote benchmarks/results.md and benchmarks/results/*.csv"
cat benchmarks/results.md
