"""mnist.py - read MNIST's IDX files for the peer benchmarks, and cut subsets.

The peers read exactly the bytes nntune reads (the raw IDX files in one
folder, gzipped or not), so every program in the comparison trains on the same
images in the same order.

As a module:
    X_train, y_train, X_test, y_test = mnist.load("data/mnist")
    # X: float32 (n, 784) scaled to [0, 1] by /255; y: int64 (n,)

As a program (so nntune can train on the same subset as scikit-learn):
    mnist.py subset --data DIR --n N --out DIR2
writes the first N training images and labels to DIR2 as IDX files with the
usual names, and copies the two test files, so `nntune --data DIR2` works.
"""
import gzip
import os
import struct
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from common import Parser, positive, write_atomic

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049


class MnistError(Exception):
    """A missing or malformed file; the message names it."""


def find(folder, name):
    """Path of NAME in FOLDER, plain or with .gz; MnistError if neither."""
    for path in (os.path.join(folder, name), os.path.join(folder, name + ".gz")):
        if os.path.isfile(path):
            return path
    raise MnistError(f"{os.path.join(folder, name)}: no such file (nor .gz)")


def read_bytes(path):
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as e:
        raise MnistError(f"{path}: cannot read: {e}") from None


def parse_idx(path, magic):
    """(array of uint8, count) from an IDX file; images come out (n, 784)."""
    data = read_bytes(path)
    ndim = 3 if magic == IMAGE_MAGIC else 1
    head = 4 + 4 * ndim
    if len(data) < head:
        raise MnistError(f"{path}: {len(data)} bytes, too short for an IDX header")
    got = struct.unpack(">I", data[:4])[0]
    if got != magic:
        raise MnistError(f"{path}: bad IDX magic {got} (want {magic})")
    dims = struct.unpack(f">{ndim}I", data[4:head])
    if ndim == 3 and dims[1:] != (28, 28):
        raise MnistError(f"{path}: images are {dims[1]}x{dims[2]} (want 28x28)")
    want = head + int(np.prod(dims))
    if len(data) != want:
        raise MnistError(f"{path}: {len(data)} bytes (want {want} for {dims})")
    arr = np.frombuffer(data, dtype=np.uint8, offset=head)
    return arr.reshape(dims[0], -1) if ndim == 3 else arr, dims[0]


def load_pair(folder, images, labels):
    X, n = parse_idx(find(folder, FILES[images]), IMAGE_MAGIC)
    lpath = find(folder, FILES[labels])
    y, m = parse_idx(lpath, LABEL_MAGIC)
    if n != m:
        raise MnistError(f"{lpath}: {m} labels for {n} images")
    if y.max() > 9:
        raise MnistError(f"{lpath}: label {y.max()} out of range 0..9")
    return X, y


def load(folder):
    """(X_train, y_train, X_test, y_test): float32 (n, 784) in [0, 1], int64."""
    if not os.path.isdir(folder):
        raise MnistError(f"{folder}: no such data folder")
    Xtr, ytr = load_pair(folder, "train_images", "train_labels")
    Xte, yte = load_pair(folder, "test_images", "test_labels")
    scale = lambda X: X.astype(np.float32) / np.float32(255)
    return scale(Xtr), ytr.astype(np.int64), scale(Xte), yte.astype(np.int64)


def subset(folder, n, out):
    """The first N training images and labels of FOLDER, plus the test files,
    as plain (uncompressed) IDX files in OUT."""
    if not os.path.isdir(folder):
        raise MnistError(f"{folder}: no such data folder")
    X, y = load_pair(folder, "train_images", "train_labels")
    if not 1 <= n <= len(y):
        raise MnistError(f"--n: {n} is not in 1..{len(y)}")
    os.makedirs(out, exist_ok=True)
    for name in FILES.values():
        # a stale .gz beside a new plain file would be a second, different copy
        if os.path.exists(os.path.join(out, name + ".gz")):
            os.unlink(os.path.join(out, name + ".gz"))
    write_atomic(os.path.join(out, FILES["train_images"]),
                 struct.pack(">4I", IMAGE_MAGIC, n, 28, 28) + X[:n].tobytes())
    write_atomic(os.path.join(out, FILES["train_labels"]),
                 struct.pack(">2I", LABEL_MAGIC, n) + y[:n].tobytes())
    load_pair(folder, "test_images", "test_labels")  # check before copying
    for key in ("test_images", "test_labels"):
        src = find(folder, FILES[key])
        write_atomic(os.path.join(out, FILES[key]), read_bytes(src))


def main(argv):
    ap = Parser(
        prog="mnist.py", description="Cut a training subset of MNIST IDX files.")
    sub = ap.add_subparsers(dest="command", metavar="subset", required=True)
    sp = sub.add_parser("subset", help="first N training images + the test set")
    sp.add_argument("--data", required=True, help="folder with the IDX files")
    sp.add_argument("--n", type=positive, required=True, help="training images to keep")
    sp.add_argument("--out", required=True, help="folder to write (created)")
    args = ap.parse_args(argv)
    try:
        subset(args.data, args.n, args.out)
    except (MnistError, OSError) as e:
        sys.exit(f"mnist.py: {e}")
    print(f"mnist.py: wrote {args.n} training images and the test set to {args.out}")


if __name__ == "__main__":
    main(sys.argv[1:])
