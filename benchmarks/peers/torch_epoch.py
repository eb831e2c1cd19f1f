"""torch_epoch.py - how long PyTorch takes for one epoch of the network nntune
benchmarks, at its best thread setting.

The network and the epoch are nntune's (benchmarks/bench_epoch.c): 784-256-128-10,
ReLU, Dropout(0.2) after each hidden layer, softmax cross-entropy, Adam lr 1e-3,
all 60,000 MNIST training images reshuffled each epoch, the last partial batch
included. The data is one preloaded float32 tensor indexed by torch.randperm
(no DataLoader, so no Python-side batching cost that nntune does not pay), the
model is in train() mode and gradients are cleared with set_to_none=True.

Why it is fair: PyTorch gets its best thread setting, not its default. Each
setting TxB of --settings (default 1x1,1x2,2x1,2x2) is T torch intra-op threads
and B OpenBLAS/OpenMP threads; it runs in a fresh process of this script (the
hidden --worker mode: the variables must be set before torch loads OpenBLAS),
which trains, for each batch size, a fresh model: one untimed warm-up epoch,
then --runs timed epochs (time.perf_counter). The CSV has every setting; stdout
names the best per batch. On Debian, torch calls the same OpenBLAS library
nntune links (OUT.csv.info records which one was loaded). The default run takes
about 3-3.5 minutes on 2 cores, half of it in 2x2, which oversubscribes them.

Usage: torch_epoch.py [--data data/mnist] [--batches 32,64,128,512] [--runs 3]
                      [--settings 1x1,1x2,2x1,2x2] [--csv OUT.csv]
"""
import argparse
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mnist  # noqa: E402
from common import Parser, check_out, positive, positive_list, write_csv, write_info  # noqa: E402

COLUMNS = "peer,batch,torch_threads,blas_threads,seconds_median,seconds_min,seconds_max"


def settings_list(text):
    """'1x2,2x1' -> [(1, 2), (2, 1)]: (torch threads, BLAS threads)."""
    if not re.fullmatch(r"[1-9]\d*x[1-9]\d*(,[1-9]\d*x[1-9]\d*)*", text):
        raise argparse.ArgumentTypeError(f"'{text}' is not like 1x1,2x1")
    return [tuple(int(v) for v in s.split("x")) for s in text.split(",")]


def openblas():
    """ctypes handle of the OpenBLAS this process loaded, or None."""
    for line in open("/proc/self/maps"):
        path = line.split()[-1]
        if re.search(r"libopenblas\S*\.so", path):
            return ctypes.CDLL(path)
    return None


def worker(args):
    """Child process: time epochs at every batch size, print JSON lines."""
    import torch  # only now: OPENBLAS/OMP_NUM_THREADS are already set
    from torch import nn

    torch.set_num_threads(args.torch_threads)
    Xtr, ytr, _, _ = mnist.load(args.data)
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    n = X.shape[0]
    for batch in args.batches:
        torch.manual_seed(1)
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(128, 10))
        loss_fn = nn.CrossEntropyLoss()  # softmax + cross-entropy
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()

        def epoch():
            perm = torch.randperm(n)
            for start in range(0, n, batch):
                idx = perm[start:start + batch]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(X[idx]), y[idx])
                loss.backward()
                opt.step()
            return float(loss)

        epoch()  # warm-up: allocator, thread pools, page faults
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            last_loss = epoch()
            times.append(time.perf_counter() - t0)
        print(json.dumps({"batch": batch, "times": times, "loss": last_loss}), flush=True)

    ob = openblas()
    m = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    blas = "BLAS_INFO=" + (m.group(1) if m else "?")
    info = {"torch_version": torch.__version__, "blas": blas,
            "torch_threads": torch.get_num_threads()}
    if ob is not None:
        ob.openblas_get_config.restype = ctypes.c_char_p
        info["blas"] += " -> " + ob.openblas_get_config().decode()
        info["openblas_threads"] = ob.openblas_get_num_threads()
    if hasattr(torch.backends, "cpu"):  # torch >= 2.0
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    else:  # 1.13 only says it in the build summary
        m = re.search(r"CPU capability usage: (\w+)", torch.__config__.show())
        info["cpu_capability"] = m.group(1) if m else "?"
    print(json.dumps({"info": info}), flush=True)


def run_setting(args, tt, bt):
    """Run one worker with TT torch threads and BT BLAS/OpenMP threads."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(bt), OMP_NUM_THREADS=str(bt))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--data", args.data,
           "--batches", ",".join(map(str, args.batches)), "--runs", str(args.runs),
           "--torch-threads", str(tt)]
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["no message"])[-1]
        sys.exit(f"torch_epoch.py: worker {tt}x{bt} failed: {last}")
    rows, info = {}, {}
    for line in p.stdout.splitlines():
        rec = json.loads(line)
        if "info" in rec:
            info = rec["info"]
        else:
            rows[rec["batch"]] = rec["times"]
    if info.get("openblas_threads", bt) != bt or info.get("torch_threads") != tt:
        print(f"torch_epoch.py: warning: asked for {tt}x{bt} threads, got "
              f"{info.get('torch_threads')}x{info.get('openblas_threads')}", file=sys.stderr)
    return rows, info


def main(argv):
    ap = Parser(prog="torch_epoch.py", description="PyTorch epoch time on MNIST, "
                "784-256-128-10 ReLU, dropout 0.2, Adam, at each thread setting.")
    ap.add_argument("--data", default="data/mnist", help="MNIST IDX folder [data/mnist]")
    ap.add_argument("--batches", default=[32, 64, 128, 512],
                    type=positive_list, help="batch sizes [32,64,128,512]")
    ap.add_argument("--runs", type=positive, default=3,
                    help="timed epochs per batch and setting, after one warm-up [3]")
    ap.add_argument("--settings", type=settings_list, default=settings_list("1x1,1x2,2x1,2x2"),
                    help="torch threads x OPENBLAS/OMP threads [1x1,1x2,2x1,2x2]")
    ap.add_argument("--csv", help="write every setting's times here")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--torch-threads", type=positive, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    try:
        if args.worker:
            return worker(args)
        mnist.load(args.data)  # fail here, once, with the file's name
    except (mnist.MnistError, OSError) as e:
        sys.exit(f"torch_epoch.py: {e}")
    check_out("torch_epoch.py", args.csv)

    results, info = [], {}  # (batch, tt, bt, median, min, max)
    for tt, bt in args.settings:
        t0 = time.perf_counter()
        rows, info = run_setting(args, tt, bt)
        for batch in args.batches:
            ts = rows[batch]
            results.append((batch, tt, bt, statistics.median(ts), min(ts), max(ts)))
        print(f"  {tt} torch x {bt} BLAS threads: done in {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)

    print(f"PyTorch {info.get('torch_version')}, epoch seconds (median of {args.runs}), "
          f"best of {len(args.settings)} thread settings:")
    for batch in args.batches:
        best = min((r for r in results if r[0] == batch), key=lambda r: r[3])
        print(f"  batch {batch:4d}: {best[3]:7.3f} s  (min {best[4]:.3f}, max {best[5]:.3f};"
              f" {best[1]} torch x {best[2]} BLAS threads)")
    if args.csv:
        write_csv(args.csv, COLUMNS, [("pytorch", b, tt, bt, f"{md:.4f}", f"{mn:.4f}", f"{mx:.4f}")
                                      for b, tt, bt, md, mn, mx in results])
        keys = ["torch_version", "blas", "cpu_capability"]
        write_info(args.csv + ".info", {
            **{k: info[k] for k in keys if k in info},
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset"),
            "python": sys.version.split()[0], "runs": args.runs})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
