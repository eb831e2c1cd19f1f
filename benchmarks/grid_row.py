"""grid_row.py - the grid-search row of benchmarks/run.sh's grid.csv for
nntune, from `nntune ... --json` and the wall-clock start and end.

    grid_row.py SUMMARY.json T0 T1 > grid.csv
"""
import json
import sys

if len(sys.argv) != 4:
    sys.exit("usage: grid_row.py SUMMARY.json T0 T1")
summary = json.load(open(sys.argv[1]))
best = summary["best"]
hp = best["params"]
print("peer,n_jobs,seconds,best_cv,best_cv_std,best_params,test_accuracy")
print(f"nntune,2,{float(sys.argv[3]) - float(sys.argv[2]):.2f},{best['cv']['mean']:.6f},"
      f"{best['cv']['std']:.6f},hidden={hp['units']};lr={hp['lr']};l2={hp['l2']},"
      f"{summary['test']['accuracy']:.6f}")
