"""grid_row.py - one nntune row of benchmarks/run.sh's grid.csv, from
`nntune ... --json` and the wall-clock start and end of that run.

    grid_row.py SUMMARY.json SEED JOBS T0 T1 [--header] >> grid.csv

The best configuration is written as scikit-learn's GridSearchCV names it
(hidden, lr, alpha), alpha being nntune's l2 times the batch size (see
grid8.txt), so the two tools' choices compare directly.

Two times: `seconds` is the whole command, T1 - T0 (start-up, loading the
training and test images, the search, the refit, the test and writing the
run folder); `fit_seconds` is the part GridSearchCV.fit's time covers, the
search and the refit (the summary's search_seconds + refit.seconds), which
is what the comparison with scikit-learn uses, to the millisecond: at
1.8 s, a hundredth of a second moves the ratio by 0.05.
"""
import json
import sys

args = [a for a in sys.argv[1:] if a != "--header"]
if len(args) != 5:
    sys.exit("usage: grid_row.py SUMMARY.json SEED JOBS T0 T1 [--header]")
summary = json.load(open(args[0]))
best = summary["best"]
hp = best["params"]
alpha = hp["l2"] * hp["batch"]
if "--header" in sys.argv:
    print("peer,n_jobs,seed,seconds,best_cv,best_cv_std,best_params,test_accuracy,fit_seconds")
print(f"nntune,{args[2]},{args[1]},{float(args[4]) - float(args[3]):.2f},{best['cv']['mean']:.6f},"
      f"{best['cv']['std']:.6f},hidden={hp['units']};lr={hp['lr']};alpha={alpha:.4g},"
      f"{summary['test']['accuracy']:.6f},"
      f"{summary['search_seconds'] + summary['refit']['seconds']:.3f}")
