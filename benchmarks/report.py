"""report.py - turn the CSVs one `make bench` run wrote into
benchmarks/results.md: each comparison as a ratio measured in that run.

    report.py WORK_DIR OUT.md

WORK_DIR holds what benchmarks/run.sh wrote: info.txt, run.txt (key: value
lines about the run), epoch.csv, torch.csv(.info), grid.csv,
sklearn.csv.info, strategies.csv, strategies_timing.csv, optuna.csv.info
and rss.csv. A section whose CSV is missing says so instead of failing, so
a partial run (BENCH_PEERS=0) still reports what it measured.
"""
import csv
import os
import statistics
import sys


def rows(work, name):
    path = os.path.join(work, name)
    if not os.path.exists(path):
        return None
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def info(work, name):
    out = {}
    path = os.path.join(work, name)
    if os.path.exists(path):
        for line in open(path):
            if ": " in line:
                k, v = line.rstrip("\n").split(": ", 1)
                out[k] = v
    return out


def table(head, body):
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in body]
    return "\n".join(lines)


def epoch_section(work, run):
    ep = rows(work, "epoch.csv")
    if not ep:
        return "## Epoch time\n\n(not measured)\n"
    body = []
    for r in ep:
        if first_layer(r) != "gemm":
            continue
        body.append([f"{r['corename']} ({r['coretype']})", how(r), r["batch"],
                     r["steps"], f"{float(r['nntune_s']):.3f} [{float(r['nntune_min_s']):.3f}-{float(r['nntune_max_s']):.3f}]",
                     f"{float(r['gemm_s']):.3f}", f"**{float(r['ratio']):.2f}**",
                     f"{100 * float(r['non_gemm_share']):.0f}%", f"{float(r['gemm_gflops']):.0f}",
                     r["nntune_images_per_s"], f"{float(r['nntune_cpu_s']):.3f}"])
    text = ["## 1. Epoch: nntune against its own GEMMs",
            "",
            "One epoch over MNIST's 60,000 training images, 784-256-128-10, ReLU,",
            "dropout 0.2, Adam, no validation. **nntune** is a full epoch through",
            "`nt_train`; **GEMM-only** repeats just the `cblas_sgemm` calls of the",
            "same epoch (same shapes, order, alpha and beta) on preallocated buffers,",
            "with the same threads. Two threads are used two ways: **BLAS** (one pass",
            "per batch, OpenBLAS splitting each GEMM over 2 threads) and **shards**",
            "(`nntune train`'s default and the refit's: every step split between 2",
            "threads with one BLAS thread each, each owning a block of every layer's",
            "weight rows; the GEMM-only side then replays each shard's GEMMs on its",
            "own thread too). **shards\\*** rows time the same sharded epoch against a",
            "GEMM-only side whose threads share one set of weights and write their",
            "slice of it after every batch, as a sharded step's update does: the",
            "weights then cross between the cores every step, which no single-core",
            "replay pays. nntune's output layer (10 units) runs on its own kernels",
            "(`src/nn/narrow.c`), the replay's on OpenBLAS. After a warm-up of each,",
            "the two sides alternate (nntune, GEMM-only, nntune, ...): seconds are",
            "medians of the timed runs (min-max in brackets), the ratio is the median",
            "of the pairs' nntune / GEMM-only.",
            "",
            table(["OpenBLAS core (OPENBLAS_CORETYPE)", "threads", "batch", "steps",
                   "nntune s/epoch", "GEMM-only s/epoch", "ratio", "non-GEMM share",
                   "GEMM GFLOP/s", "nntune images/s", "nntune CPU s"], body)]
    sparse = [r for r in ep if first_layer(r) == "sparse"]
    if sparse:
        sbody = []
        for r in sparse:
            g = next((q for q in ep if first_layer(q) == "gemm" and q["coretype"] == r["coretype"]
                      and q["threads"] == r["threads"] and q["parallel"] == r["parallel"]
                      and q["batch"] == r["batch"]), None)
            s_s = float(r["nntune_s"])
            sbody.append([how(r), r["batch"],
                          f"{s_s:.3f} [{float(r['nntune_min_s']):.3f}-{float(r['nntune_max_s']):.3f}]",
                          f"{float(g['nntune_s']):.3f}" if g else "-",
                          f"**{float(g['nntune_s']) / s_s:.2f}x**" if g else "-",
                          f"{float(r['gemm_s']):.3f}", f"{s_s / float(r['gemm_s']):.2f}"])
        text += ["",
                 "### 1b. The sparse first layer (nntune's default)",
                 "",
                 "The same epochs with the first layer as nntune runs it by default: a batch "
                 "whose inputs are at most 60% non-zero (MNIST's are 19%) multiplies only its "
                 "non-zero pixels, input by input, with W's rows of a few neighbouring inputs "
                 "in registers (`src/nn/sparse.c`, AVX-512); the other layers stay on GEMMs. The GEMM-only column is the "
                 "all-GEMM epoch above, so a ratio below 1 is time the sparse layer saves "
                 "below what the GEMMs alone would take.",
                 "",
                 table(["threads", "batch", "nntune s/epoch, sparse", "nntune s/epoch, all GEMM",
                        "speed-up", "GEMM-only s/epoch", "ratio to GEMM-only"], sbody)]
    if run.get("job1"):
        def two(parallel):
            return next((float(r["nntune_s"]) for r in ep if r["coretype"] == run.get("coretype")
                         and r["threads"] == "2" and r["parallel"] == parallel
                         and r["batch"] == "128"), None)
        t2, s2 = two("blas"), two("shards")
        m = max(float(run["job1"]), float(run["job2"]))
        if t2:
            text += ["",
                     f"**Jobs or threads** (batch 128): two single-thread processes at once took "
                     f"{run['job1']} s and {run['job2']} s per epoch, {2 / m:.2f} epochs/s together, "
                     f"against {1 / t2:.2f} epochs/s for one process with 2 BLAS threads"
                     + (f" and {1 / s2:.2f} with 2 shards" if s2 else "") + ". This is why "
                     "`nntune tune` trains folds in parallel, one BLAS thread each, and a single "
                     "training (`nntune train`, the refit) uses shards."]
    return "\n".join(text) + "\n"


def first_layer(r):
    """How a row's nntune epoch ran its first layer: "gemm" or "sparse"."""
    return r.get("first_layer") or "gemm"


def how(r):
    """How a row used its threads: "1", "2 BLAS", "2 shards", "2 shards*"."""
    if r["threads"] == "1":
        return "1"
    return r["threads"] + {"shards": " shards", "shards-shared": " shards*"}.get(r["parallel"], " BLAS")


def nntune_best_epoch(ep, batch, coretype):
    # shards* rows time the same nntune epoch as shards rows again
    cands = [r for r in ep if r["batch"] == str(batch) and r["coretype"] == coretype
             and r["parallel"] != "shards-shared"]
    if not cands:
        return None
    return min(cands, key=lambda r: float(r["nntune_s"]))


def torch_section(work, run):
    ep, tr = rows(work, "epoch.csv"), rows(work, "torch.csv")
    ti = info(work, "torch.csv.info")
    if not ep or not tr:
        return "## 2. Epoch: nntune against PyTorch\n\n(not measured)\n"
    body = []
    for batch in sorted({int(r["batch"]) for r in tr}):
        ours = nntune_best_epoch(ep, batch, run.get("coretype", ""))
        theirs = [r for r in tr if int(r["batch"]) == batch]
        if not ours or not theirs:
            continue
        best = min(theirs, key=lambda r: float(r["seconds_median"]))
        one = next((r for r in theirs if r["torch_threads"] == "1" and r["blas_threads"] == "1"), None)
        o = float(ours["nntune_s"])
        body.append([batch, f"{o:.3f} ({how(ours) if ours['threads'] != '1' else '1 thread'}, "
                            f"{'sparse' if first_layer(ours) == 'sparse' else 'all-GEMM'} first layer)",
                     f"{float(best['seconds_median']):.3f} (torch {best['torch_threads']}, BLAS {best['blas_threads']})",
                     f"{float(one['seconds_median']):.3f}" if one else "-",
                     f"**{float(best['seconds_median']) / o:.2f}x**"])
    text = ["## 2. Epoch: nntune against PyTorch",
            "",
            "The same network, data and epoch in PyTorch "
            f"{ti.get('torch_version', '?')} (Debian's python3-torch, CPU, BLAS: {ti.get('blas', '?')}): "
            "preloaded tensors, a fresh permutation per epoch, `zero_grad(set_to_none=True)`, "
            "`torch.optim.Adam`. PyTorch runs at every combination of its intra-op threads "
            "(1, 2) and its BLAS/OpenMP threads (1, 2), each in a fresh process, and its "
            "best setting per batch size is the one compared; nntune's best of 1 thread, 2 BLAS "
            "threads and 2 shards, with its first layer sparse or on GEMMs, likewise. "
            "Same OPENBLAS_CORETYPE for both. "
            "Speed-up = PyTorch's best / nntune's best.",
            "",
            table(["batch", "nntune s/epoch (best)", "PyTorch s/epoch (best setting)",
                   "PyTorch 1 thread", "speed-up"], body),
            "",
            "Every PyTorch setting:",
            "",
            table(["batch", "torch threads", "BLAS threads", "s/epoch (median)", "min", "max"],
                  [[r["batch"], r["torch_threads"], r["blas_threads"], r["seconds_median"],
                    r["seconds_min"], r["seconds_max"]] for r in tr])]
    return "\n".join(text) + "\n"


def grid_section(work, run):
    g = rows(work, "grid.csv")
    si = info(work, "sklearn.csv.info")
    if not g:
        return "## 3. Grid search: nntune against scikit-learn's GridSearchCV\n\n(not measured)\n"
    seeds = run.get("grid_seeds", "1")
    groups = {}  # (tool, jobs) -> that setting's rows, one per seed
    for r in g:
        groups.setdefault((r["peer"], r["n_jobs"]), []).append(r)

    def fit_s(r):  # rows from before fit_seconds was recorded: the whole run
        return float(r.get("fit_seconds") or r["seconds"])

    summary = []
    for (peer, jobs), rs in groups.items():
        cvs = [float(r["best_cv"]) for r in rs]
        picks = {}
        for r in rs:
            picks[r["best_params"]] = picks.get(r["best_params"], 0) + 1
        whole = f"{median([float(r['seconds']) for r in rs]):.2f}" if peer == "nntune" else "-"
        summary.append([peer, jobs, len(rs), f"{median([fit_s(r) for r in rs]):.2f}", whole,
                        f"**{statistics.mean(cvs):.4f}** [{min(cvs):.4f}-{max(cvs):.4f}]",
                        f"{statistics.mean(float(r['test_accuracy']) for r in rs):.4f}",
                        " / ".join(f"{k} x{v}" for k, v in sorted(picks.items(), key=lambda kv: -kv[1]))])
    # grid.csv interleaves the tools seed by seed; listed tool by tool
    body = [[r["peer"], r["n_jobs"], r["seed"], f"{fit_s(r):.2f}",
             f"{float(r['seconds']):.2f}" if r["peer"] == "nntune" else "-",
             f"{float(r['best_cv']):.4f} ± {float(r['best_cv_std']):.4f}", r["best_params"],
             f"{float(r['test_accuracy']):.4f}"] for rs in groups.values() for r in rs]
    text = ["## 3. Grid search: nntune against scikit-learn's GridSearchCV",
            "",
            f"The first {run.get('grid_n', '20000')} MNIST training images; 8 configurations "
            "(one hidden layer of 128 or 256 ReLU units, learning rate 1e-3 or 3e-3, "
            "L2 penalty alpha 1e-4 or 1e-3), Adam, batch 128, exactly 5 epochs per fit (no early "
            "stopping), 3 stratified folds, then a refit of the best on all images and one test "
            "on the 10,000 test images. nntune: `" + run.get("grid_cmd", "?") + "`; scikit-learn "
            f"{si.get('sklearn_version', '?')}: GridSearchCV(MLPClassifier) at each n_jobs. "
            "The time compared is what GridSearchCV.fit takes: the search and the refit "
            "(scikit-learn's rows), and nntune's search_seconds + refit.seconds from its "
            "--json summary, the same part. nntune's whole command is timed too: its "
            "start-up, loading the training and test images, the test and writing the run "
            "folder as well (scikit-learn's process start-up, imports and loading come "
            "before fit and are not timed). The penalty is the same on both sides: "
            "MLPClassifier adds alpha x W / batch to a weight's gradient and nntune l2 x W, "
            "so grid8.txt's l2 values are alpha / 128, and nntune's choice is shown as the "
            f"alpha it equals. Each tool searches once per seed ({seeds}): the seed sets "
            "the folds and the initial weights, which move the best CV score by more than "
            "the tools differ, so the scores are compared as means over the seeds. The "
            "searches interleave, seed by seed (nntune, then GridSearchCV at each n_jobs), "
            "so that a VM slowing down meanwhile slows both tools.",
            "",
            table(["tool", "jobs", "seeds", "median seconds, search + refit",
                   "median seconds, whole command", "best CV accuracy, mean [min-max]",
                   "test accuracy, mean", "configurations chosen"], summary),
            "",
            "Every search:",
            "",
            table(["tool", "jobs", "seed", "seconds, search + refit", "seconds, whole command",
                   "best CV accuracy", "best configuration",
                   "test accuracy"], body)]
    ours = [k for k in groups if k[0] == "nntune"]
    theirs = [k for k in groups if k[0] == "sklearn"]
    if ours and theirs:
        def med(k):
            return median([fit_s(r) for r in groups[k]])

        def med_whole(k):
            return median([float(r["seconds"]) for r in groups[k]])

        def mean_cv(k):
            return statistics.mean(float(r["best_cv"]) for r in groups[k])
        o, t = min(ours, key=med), min(theirs, key=med)
        verdict = "no worse than" if mean_cv(o) >= mean_cv(t) else "below"
        # two decimals: the bar is 8x, and 7.96x must not read as 8.0x
        text += ["", f"**nntune is {med(t) / med(o):.2f}x faster** than GridSearchCV's best "
                 f"setting (n_jobs={t[1]}), search and refit, median over the seeds "
                 f"({med(o):.3f} s against {med(t):.2f} s); {med(t) / med_whole(o):.2f}x with "
                 f"nntune's whole command ({med_whole(o):.2f} s). Its mean best CV accuracy, "
                 f"{mean_cv(o):.4f}, is {verdict} scikit-learn's {mean_cv(t):.4f}."]
        rs = sorted(groups[o], key=fit_s)
        text += grid_floor(work, run, rs[len(rs) // 2], med(o), med(t))
    return "\n".join(text) + "\n"


def grid_floor(work, run, ours, ours_s, theirs_s):
    """The least time the grid's GEMMs can take on this machine: its training
    FLOPs over the 1-thread GEMM rate section 1 measured (batch 128), on 2
    cores at once. ours is the nntune search whose refit is counted, ours_s
    and theirs_s the median seconds compared."""
    rate = next((float(r["gemm_gflops"]) for r in rows(work, "epoch.csv")
                 if r["coretype"] == run.get("coretype") and r["threads"] == "1"
                 and r["batch"] == "128"), None)
    if not rate:
        return []
    n, folds, epochs, d, classes = int(run.get("grid_n", "20000")), 3, 5, 784, 10
    fit = n - n // folds  # each fold trains on the other two thirds

    def per_image(h):  # forward, dW of both layers, dx of the output layer
        return 2 * (d * h + h * classes) * 2 + 2 * h * classes

    best_h = int(ours["best_params"].split(";")[0].split("=")[1])
    flops = sum(4 * folds * fit * epochs * per_image(h) for h in (128, 256))
    flops += n * epochs * per_image(best_h)  # the refit
    floor = flops / (2 * rate * 1e9)
    need = theirs_s / 8
    return ["", f"The dense floor: the grid's training GEMMs are {flops / 1e9:.0f} GFLOP "
            f"(8 configurations x {folds} folds x {fit} images x {epochs} epochs, then the refit). "
            f"At the {rate:.0f} GFLOP/s one core's GEMMs ran in section 1 (batch 128), both "
            f"cores need at least **{floor:.1f} s** for them, which is where scikit-learn's "
            f"float32 OpenBLAS GEMMs stop. nntune's search and refit took {ours_s:.3f} s, "
            f"{ours_s / floor:.2f}x that floor (the held-out evaluations included): its first layer, 98% of these FLOPs, multiplies only the non-zero "
            f"pixels (section 1b). 8x faster than GridSearchCV would be {need:.3f} s."]


def median(v):
    return statistics.median(v) if v else float("nan")


def strategies_section(work):
    ours, theirs = rows(work, "strategies.csv"), rows(work, "optuna.csv")
    t_ours, t_theirs = rows(work, "strategies_timing.csv"), rows(work, "optuna_timing.csv")
    oi = info(work, "optuna.csv.info")
    allr = (ours or []) + (theirs or [])
    if not allr:
        return "## 4. Search strategies on test functions\n\n(not measured)\n"
    body, ranges = [], []
    for fn in sorted({r["function"] for r in allr}):
        for peer, sampler in [("nntune", "bayes"), ("optuna", "tpe"), ("nntune", "random"), ("optuna", "random")]:
            rs = [r for r in allr if r["function"] == fn and r["peer"] == peer and r["sampler"] == sampler]
            if not rs:
                continue
            trs = [r for r in (t_ours or []) + (t_theirs or [])
                   if r["function"] == fn and r["peer"] == peer and r["sampler"] == sampler]
            timing = {r["trials"]: float(r["ms_per_trial"]) for r in trs}
            # the runs' range at the last mark (CSVs from before the repeats have none)
            last = max(trs, key=lambda r: int(r["trials"]), default=None)
            if last and last.get("ms_max") and sampler != "random":
                ranges.append(f"{peer} {sampler} on {fn} {float(last['ms_min']):.2f}-"
                              f"{float(last['ms_max']):.2f} ms over {last['repeats']} runs "
                              f"at {last['trials']}")
            body.append([fn, f"{peer} {sampler}", len(rs),
                         f"{median([float(r['best_20']) for r in rs]):.4f}",
                         f"{median([float(r['best_50']) for r in rs]):.4f}",
                         f"{timing.get('50', float('nan')):.2f}",
                         f"{timing.get('200', float('nan')):.2f}"])
    text = ["## 4. Search strategies on test functions",
            "",
            "Best value found (minimizing; median over seeds) after 20 and 50 evaluations, "
            f"nntune's strategies through the library's ask/tell loop, Optuna {oi.get('optuna_version', '?')} "
            "(Debian's python3-optuna) with its samplers' defaults. The optimizer's own time per "
            "trial (ask + tell, the function excluded) is the mean of the 10 trials before the "
            "50th and the 200th of one longer study (seed 1), and that study runs several times, "
            "the same work each time: the table has the median of its runs, since ten trials "
            "last about a tenth of a second, and one slow moment of the VM can move a single "
            "run's mean by half"
            + (f" (the runs' range: {'; '.join(ranges)})" if ranges else "")
            + ". Branin's minimum is 0.397887, Hartmann-6's -3.32237.",
            "",
            table(["function", "strategy", "seeds", "median best @20", "median best @50",
                   "ms/trial @50", "ms/trial @200"], body)]
    return "\n".join(text) + "\n"


def rss_section(work):
    r = rows(work, "rss.csv")
    if not r:
        return "## 5. Peak memory\n\n(not measured)\n"
    body = [[f"`{x['command']}`", f"{float(x['seconds']):.0f}", f"{int(x['max_rss_kb']) / 1024:.0f}"] for x in r]
    return "\n".join(["## 5. Peak memory",
                      "",
                      "Peak resident set size (getrusage's ru_maxrss of the child) of a tuning run on "
                      "MNIST with the default space and 3 folds (2 trained at once).",
                      "",
                      table(["command", "seconds", "peak RSS (MiB)"], body)]) + "\n"


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py WORK_DIR OUT.md")
    work, out = sys.argv[1], sys.argv[2]
    inf, run = info(work, "info.txt"), info(work, "run.txt")
    head = ["# nntune benchmarks",
            "",
            "Written by `benchmarks/run.sh` (`make bench`"
            + (" --full" if run.get("full") == "1" else "") + "); see benchmarks/README.md. "
            "Every ratio compares two measurements of the same run on the same machine.",
            "",
            f"- date: {run.get('started', '?')}, commit {run.get('commit', '?')}, "
            f"{run.get('minutes', '?')} minutes in all",
            f"- CPU: {inf.get('cpu', '?')}, {inf.get('logical cpus', '?')} logical CPUs, "
            f"AVX-512: {inf.get('avx512f', '?')}, caches {inf.get('caches', '?')}",
            f"- OpenBLAS: {inf.get('openblas config', '?')}",
            f"- OpenBLAS core in use: {inf.get('openblas core', '?')} "
            f"(OPENBLAS_CORETYPE={inf.get('OPENBLAS_CORETYPE', '?')})",
            f"- threads: nntune's per row, as BLAS threads (openblas_set_num_threads) or shards; "
            f"OPENBLAS_NUM_THREADS={inf.get('OPENBLAS_NUM_THREADS', '?')}; peers as each table says",
            f"- compiler: {run.get('compiler', '?')}, -O2 -march=native -fno-math-errno",
            f"- CPUs {run.get('idle_pct', '?')}% idle just before the runs; load average "
            f"{run.get('load_before', '?')} before, {run.get('load_after', '?')} after"
            + (" (**busy machine**: expect noisy rows)" if run.get("busy") == "1" else ""),
            f"- a cache line's round trip between the two cores (`bench_crosscore`): "
            f"{run.get('crosscore_before', '?')} ns before the runs, "
            f"{run.get('crosscore_after', '?')} ns after them; the sharded rows pay it "
            "whenever activations cross between the cores",
            f"- a dependent load's latency over buffers of each size (`bench_cachelat`): "
            f"{run.get('cachelat_before', '?')} before the runs; "
            f"{run.get('cachelat_after', '?')} after them. Tens of ns is the last-level "
            "cache, 100-200 memory: the VM's share of the cache moves with its neighbours, "
            "and the grid's speed with it",
            ""]
    parts = [epoch_section(work, run), torch_section(work, run), grid_section(work, run),
             strategies_section(work), rss_section(work)]
    prof = os.path.join(work, "profile.md")
    if run.get("profile") == "1" and os.path.exists(prof):
        parts.append("## Profile (perf, batch 128, 1 BLAS thread, 5 epochs)\n\n" + open(prof).read())
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(head) + "\n" + "\n".join(parts))
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
