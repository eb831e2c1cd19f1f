"""optuna_functions.py - how close Optuna's samplers get to the known minima of
two classic test functions in a fixed number of trials, and how much time the
sampler itself spends per trial.

The functions, domains and minima are nntune's (src/tune/testfn.c, from
Surjanovic & Bingham's Virtual Library of Simulation Experiments):
  branin     x1 in [-5, 10], x2 in [0, 15]   minimum  0.397887
  hartmann6  [0, 1]^6                         minimum -3.32237
Each study minimizes through study.ask() / study.tell(), with
trial.suggest_float("x1", lo, hi) ... "xd" (uniform, like nntune's space).

Quality: TPESampler (defaults, seed=s) and RandomSampler(seed=s), seeds 1..SEEDS,
BUDGET trials each; the CSV has the best value after 20 and after BUDGET trials.
Sampler time: a study of TIMING-TRIALS trials per sampler and function (seed
1), run TIMING-REPEATS times; the time of a trial is ask() + suggest_float() +
tell(), without the objective. Each run gives the mean over trials 41-50 and
over the last ten, and the CSV has the median of the runs' means (with their
range), as nntune's bench_strategies.c does.

Why it is fair: same functions and domains as nntune, Optuna's own defaults,
fixed seeds, and the timing leaves out the objective, so it compares only what
the two tuners themselves cost per trial.

Usage: optuna_functions.py [--seeds 10] [--budget 50] [--timing-trials 200]
                           [--timing-repeats 5] [--csv OUT.csv] [--timing-csv OUT2.csv]
"""
import math
import os
import statistics
import sys
import time

import optuna

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Parser, check_out, positive, write_csv, write_info  # noqa: E402

COLUMNS = "peer,sampler,function,seed,best_20,best_50"
TIMING_COLUMNS = "peer,sampler,function,trials,ms_per_trial,repeats,ms_min,ms_max"


def branin(x):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    q = x[1] - b * x[0] ** 2 + c * x[0] - 6
    return q * q + 10 * (1 - t) * math.cos(x[0]) + 10


HART_ALPHA = (1.0, 1.2, 3.0, 3.2)
HART6_A = ((10, 3, 17, 3.5, 1.7, 8), (0.05, 10, 17, 0.1, 8, 14),
           (3, 3.5, 1.7, 10, 17, 8), (17, 8, 0.05, 10, 0.1, 14))
HART6_P = ((1312, 1696, 5569, 124, 8283, 5886), (2329, 4135, 8307, 3736, 1004, 9991),
           (2348, 1451, 3522, 2883, 3047, 6650), (4047, 8828, 8732, 5743, 1091, 381))


def hartmann6(x):
    # -sum_i alpha_i exp(-sum_j A_ij (x_j - P_ij)^2)
    return -sum(HART_ALPHA[i] * math.exp(-sum(HART6_A[i][j] * (x[j] - 1e-4 * HART6_P[i][j]) ** 2
                                              for j in range(6)))
                for i in range(4))


# name: (function, lower bounds, upper bounds, minimum, a minimizer)
FUNCTIONS = {
    "branin": (branin, (-5, 0), (10, 15), 0.397887357729739, (math.pi, 2.275)),
    "hartmann6": (hartmann6, (0,) * 6, (1,) * 6, -3.32236801141551,
                  (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)),
}
SAMPLERS = {"tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
            "random": lambda seed: optuna.samplers.RandomSampler(seed=seed)}


def run_study(fname, sname, seed, trials):
    """Values of TRIALS trials, and each trial's sampler-only seconds."""
    f, lo, hi, _, _ = FUNCTIONS[fname]
    study = optuna.create_study(direction="minimize", sampler=SAMPLERS[sname](seed))
    values, secs = [], []
    for _ in range(trials):
        t0 = time.perf_counter()
        trial = study.ask()
        x = [trial.suggest_float(f"x{j + 1}", lo[j], hi[j]) for j in range(len(lo))]
        t1 = time.perf_counter()
        y = f(x)
        t2 = time.perf_counter()
        study.tell(trial, y)
        secs.append((t1 - t0) + (time.perf_counter() - t2))
        values.append(y)
    return values, secs


def main(argv):
    ap = Parser(prog="optuna_functions.py", description="Optuna's TPE and random "
                "samplers on branin and hartmann6: best value reached, time per trial.")
    ap.add_argument("--seeds", type=positive, default=10, help="seeds 1..N per sampler [10]")
    ap.add_argument("--budget", type=positive, default=50, help="trials per study, >= 20 [50]")
    ap.add_argument("--timing-trials", type=positive, default=200,
                    help="trials of the timing study, >= 50 [200]")
    ap.add_argument("--timing-repeats", type=positive, default=5,
                    help="runs of each timing study, the median reported [5]")
    ap.add_argument("--csv", help="best values, one row per sampler, function and seed")
    ap.add_argument("--timing-csv", help="sampler milliseconds per trial")
    args = ap.parse_args(argv)
    if args.budget < 20:
        ap.error(f"argument --budget: {args.budget} is less than 20")
    if args.timing_trials < 50:
        ap.error(f"argument --timing-trials: {args.timing_trials} is less than 50")
    check_out("optuna_functions.py", args.csv)
    check_out("optuna_functions.py", args.timing_csv, "--timing-csv")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name, (f, _, _, fmin, xmin) in FUNCTIONS.items():  # guard against typos
        assert abs(f(xmin) - fmin) < 1e-4, f"{name}({xmin}) = {f(xmin)}, not {fmin}"

    print(f"Optuna {optuna.__version__}: best value after 20 and {args.budget} trials, "
          f"median over {args.seeds} seeds (gap to the minimum)")
    rows = []
    for sname in SAMPLERS:
        for fname, (_, _, _, fmin, _) in FUNCTIONS.items():
            b20, bend = [], []
            for seed in range(1, args.seeds + 1):
                values, _ = run_study(fname, sname, seed, args.budget)
                b20.append(min(values[:20]))
                bend.append(min(values))
                rows.append(("optuna", sname, fname, seed, f"{b20[-1]:.10g}", f"{bend[-1]:.10g}"))
            m20, mend = statistics.median(b20), statistics.median(bend)
            print(f"  {sname:6s} {fname:9s}  @20 {m20:9.5f} ({m20 - fmin:.2e})"
                  f"  @{args.budget} {mend:9.5f} ({mend - fmin:.2e})", flush=True)

    marks = sorted({50, args.timing_trials})
    print(f"Sampler time per trial, ms (mean of the 10 trials before "
          f"{' and '.join(map(str, marks))}; median of {args.timing_repeats} runs)")
    timing = []
    for sname in SAMPLERS:
        for fname in FUNCTIONS:
            runs = []  # per run, the window means at each mark
            for _ in range(args.timing_repeats):
                _, secs = run_study(fname, sname, 1, args.timing_trials)
                runs.append([1000 * statistics.fmean(secs[m - 10:m]) for m in marks])
            ms = [statistics.median(r[k] for r in runs) for k in range(len(marks))]
            timing += [("optuna", sname, fname, m, f"{v:.3f}", len(runs),
                        f"{min(r[k] for r in runs):.3f}", f"{max(r[k] for r in runs):.3f}")
                       for k, (m, v) in enumerate(zip(marks, ms))]
            print(f"  {sname:6s} {fname:9s}  " + "  ".join(
                f"@{m} {v:7.3f}" for m, v in zip(marks, ms)), flush=True)

    info = {"optuna_version": optuna.__version__, "python": sys.version.split()[0],
            "seeds": args.seeds, "budget": args.budget, "timing_trials": args.timing_trials,
            "timing_repeats": args.timing_repeats}
    if args.csv:
        write_csv(args.csv, COLUMNS, rows)
    if args.timing_csv:
        write_csv(args.timing_csv, TIMING_COLUMNS, timing)
    if args.csv or args.timing_csv:
        write_info((args.csv or args.timing_csv) + ".info", info)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
