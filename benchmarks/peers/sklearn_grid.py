"""sklearn_grid.py - how long scikit-learn's GridSearchCV takes to tune an
MLPClassifier on an MNIST subset, and how good the network it picks is.

This is what a Python user would write to do `nntune tune --strategy grid`:
an 8-point grid (hidden_layer_sizes (128,) or (256,), learning_rate_init 1e-3
or 3e-3, alpha 1e-4 or 1e-3) scored by stratified k-fold accuracy, then a refit
of the best configuration on all N images, tested once on the 10,000 test
images. Every fit runs exactly --epochs epochs of Adam with batch 128 (no early
stopping: tol=0 and n_iter_no_change > epochs), so the work is fixed and known:
8 x folds + 1 fits. Each seed in --seeds is the random_state of both the folds
and the network, so reruns pick the same configuration, and several seeds
show how much the best CV score moves with the folds and the initial weights.

Why it is fair: the time is the wall clock of GridSearchCV.fit, refit included,
at each --jobs value (joblib processes; scikit-learn's own way of using more
cores), with numpy's BLAS at its default thread count (joblib limits it to
cores/jobs inside its workers). OUT.csv.info records which BLAS numpy uses.

Usage: sklearn_grid.py [--data data/mnist] [--n 20000] [--epochs 5]
                       [--folds 3] [--jobs 1,2] [--seeds 1] [--csv OUT.csv]
"""
import os
import sys
import time
import warnings

# Silence MLPClassifier's ConvergenceWarning (a UserWarning: a fixed epoch count
# is the point here) in joblib's worker processes too, which inherit this.
os.environ["PYTHONWARNINGS"] = ",".join(
    filter(None, [os.environ.get("PYTHONWARNINGS"), "ignore:Stochastic Optimizer:UserWarning"]))

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist  # noqa: E402
from common import Parser, check_out, positive, positive_list, write_csv, write_info  # noqa: E402

# fit_seconds: the same as seconds here (GridSearchCV.fit is what is timed);
# nntune's rows (grid_row.py) give its search + refit there, the same part
COLUMNS = "peer,n_jobs,seed,seconds,best_cv,best_cv_std,best_params,test_accuracy,fit_seconds"
GRID = {"hidden_layer_sizes": [(128,), (256,)],
        "learning_rate_init": [1e-3, 3e-3],
        "alpha": [1e-4, 1e-3]}


def params_text(p):
    """{'hidden_layer_sizes': (128,), ...} -> 'hidden=128;lr=0.001;alpha=0.0001'."""
    hidden = "-".join(str(h) for h in p["hidden_layer_sizes"])
    return f"hidden={hidden};lr={p['learning_rate_init']};alpha={p['alpha']}"


def blas_info():
    """numpy's BLAS as one line: from threadpoolctl when it is there."""
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            return (f"{p.get('internal_api')} {p.get('version')} {p.get('architecture', '')}"
                    f" {p.get('threading_layer', '')}, {p.get('num_threads')} threads,"
                    f" {p.get('filepath')}")
    except ImportError:
        pass
    cfg = getattr(np, "__config__", None)
    blas = getattr(cfg, "blas_opt_info", None) or getattr(cfg, "blas_info", None)
    return str(blas.get("libraries")) if isinstance(blas, dict) else "unknown"


def search(X, y, args, n_jobs, seed):
    """A fitted GridSearchCV and the wall seconds its fit took."""
    est = MLPClassifier(solver="adam", activation="relu", batch_size=128,
                        max_iter=args.epochs, early_stopping=False,
                        n_iter_no_change=args.epochs + 1, tol=0, shuffle=True,
                        random_state=seed)
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=seed)
    gs = GridSearchCV(est, GRID, scoring="accuracy", cv=cv, refit=True, n_jobs=n_jobs)
    t0 = time.perf_counter()
    gs.fit(X, y)
    return gs, time.perf_counter() - t0


def main(argv):
    ap = Parser(prog="sklearn_grid.py", description="Time GridSearchCV over 8 "
                "MLPClassifier configurations on the first N MNIST training images.")
    ap.add_argument("--data", default="data/mnist", help="MNIST IDX folder [data/mnist]")
    ap.add_argument("--n", type=positive, default=20000, help="training images used [20000]")
    ap.add_argument("--epochs", type=positive, default=5, help="epochs per fit [5]")
    ap.add_argument("--folds", type=positive, default=3, help="cross-validation folds [3]")
    ap.add_argument("--jobs", type=positive_list, default=[1, 2],
                    help="GridSearchCV n_jobs values to time [1,2]")
    ap.add_argument("--seeds", type=positive_list, default=[1],
                    help="random_state values, one search each per n_jobs [1]")
    ap.add_argument("--csv", help="write one row per n_jobs here (and OUT.csv.info)")
    args = ap.parse_args(argv)
    if args.folds < 2:
        ap.error("argument --folds: must be at least 2")
    check_out("sklearn_grid.py", args.csv)
    try:
        Xtr, ytr, Xte, yte = mnist.load(args.data)
    except (mnist.MnistError, OSError) as e:
        sys.exit(f"sklearn_grid.py: {e}")
    if args.n > len(ytr):
        ap.error(f"argument --n: {args.n} is more than the {len(ytr)} training images")
    X, y = Xtr[:args.n], ytr[:args.n]
    if np.bincount(y, minlength=10).min() < args.folds:
        ap.error(f"argument --n: {args.n} images leave a class with fewer than "
                 f"{args.folds} samples, too few for {args.folds} folds")
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    fits = len(GRID["hidden_layer_sizes"]) * len(GRID["learning_rate_init"]) * \
        len(GRID["alpha"]) * args.folds + 1
    print(f"scikit-learn {sklearn.__version__}: GridSearchCV, 8 MLPClassifier configs x "
          f"{args.folds} folds + refit = {fits} fits of {args.epochs} epochs, {args.n} images")
    rows = []
    for n_jobs in args.jobs:
        for seed in args.seeds:
            gs, secs = search(X, y, args, n_jobs, seed)
            i = gs.best_index_
            cv, std = gs.cv_results_["mean_test_score"][i], gs.cv_results_["std_test_score"][i]
            acc = gs.best_estimator_.score(Xte, yte)
            best = params_text(gs.best_params_)
            rows.append(("sklearn", n_jobs, seed, f"{secs:.2f}", f"{cv:.4f}", f"{std:.4f}",
                         best, f"{acc:.4f}", f"{secs:.2f}"))
            print(f"  n_jobs={n_jobs} seed {seed}: {secs:7.1f} s  best {best}"
                  f"  cv {cv:.4f} +- {std:.4f}  test {acc:.4f}", flush=True)
    if args.csv:
        write_csv(args.csv, COLUMNS, rows)
        write_info(args.csv + ".info", {
            "sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
            "blas": blas_info(), "python": sys.version.split()[0],
            "n": args.n, "epochs": args.epochs, "folds": args.folds, "fits": fits,
            "seeds": ",".join(str(v) for v in args.seeds)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
