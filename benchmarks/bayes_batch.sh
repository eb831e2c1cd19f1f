#!/usr/bin/env bash
# bayes_batch.sh - what proposing bayes's model trials in pairs
# (--bayes-batch 2) costs per trial, on the test functions: the median and
# mean best value after 20, 30, 38, 40, 49 and 53 evaluations over 40
# seeds, for batches of 1 and 2 (bench_strategies's "bayes:1" and
# "bayes:2", told one trial at a time: a pair's second point ignores its
# partner's result either way). 38 and 49 are what the time of 30 and 40
# one at a time buys in pairs (Branin's 6-point design plus 24 model trials
# x 4/3; Hartmann-6's 14 plus 26 x 4/3), since the gain is per hour, not
# per trial: with 3 folds on 2 cores a pair trains in 3 rounds of folds
# where two single trials take 4. The second part measures that: the
# search time of a network study whose trials all cost the same (one fixed
# small network, only lr searched, no early stopping), 2 design points and
# 12 model trials, 3 folds on 2 jobs, at --bayes-batch 1 and 2.
# Writes benchmarks/results/bayes_batch.csv and bayes_batch_time.csv and
# prints two markdown tables.
#
#   bash benchmarks/bayes_batch.sh [SEEDS]        (about a minute at 40)
set -euo pipefail
cd "$(dirname "$0")/.."
SEEDS=${1:-40}
make -s all bench-programs  # ./nntune for part 2, build/bench_strategies
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p benchmarks/results
OUT=benchmarks/results/bayes_batch.csv
echo "function,batch,evaluations,seed,best" > "$OUT"
for budget in 20 30 38 40 49 53; do
    for batch in 1 2; do
        name=bayes:$batch
        ./build/bench_strategies --functions branin,hartmann6 --strategies "$name" \
            --seeds "$SEEDS" --budget "$budget" --timing-trials 50 \
            --csv "$WORK/q.csv" --timing-csv "$WORK/t.csv" > /dev/null
        # best_50 is the best after --budget evaluations
        awk -F, -v b="$batch" -v n="$budget" 'NR > 1 { print $3 "," b "," n "," $4 "," $6 }' \
            "$WORK/q.csv" >> "$OUT"
    done
done
/usr/bin/python3 - "$OUT" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print("| function | evaluations | batch 1: median (mean) | batch 2: median (mean) |")
print("|---|---|---|---|")
for fn in sorted({r["function"] for r in rows}):
    for n in sorted({int(r["evaluations"]) for r in rows}):
        cell = []
        for b in ("1", "2"):
            v = [float(r["best"]) for r in rows
                 if r["function"] == fn and r["batch"] == b and int(r["evaluations"]) == n]
            cell.append(f"{statistics.median(v):.4f} ({statistics.mean(v):.4f})")
        print(f"| {fn} | {n} | {cell[0]} | {cell[1]} |")
EOF

# part 2: wall time of equal-cost trials, one at a time against pairs
TIME=benchmarks/results/bayes_batch_time.csv
echo "bayes_batch,trials,search_seconds,trials_per_minute" > "$TIME"
for batch in 1 2; do
    ./nntune --data mnist --strategy bayes --bayes-batch "$batch" --trials 14 \
        --initial-points 2 --folds 3 --jobs 2 --es-frac 0 --time-budget none \
        --space <(printf 'lr = loguniform(1e-4, 1e-1)\nlayers = 1\nunits = 64\nbatch = 256\nepochs = 2\n') \
        --quiet --out "$WORK/t$batch" > /dev/null
    /usr/bin/python3 - "$WORK/t$batch" "$batch" >> "$TIME" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1] + "/best.json"))
n, s = b["trials"], b["search_seconds"]
print(f"{sys.argv[2]},{n},{s:.2f},{60 * n / s:.2f}")
EOF
done
echo
echo "| --bayes-batch | trials | search seconds | trials a minute |"
echo "|---|---|---|---|"
tail -n +2 "$TIME" | awk -F, '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
