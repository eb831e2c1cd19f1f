"""common.py - what every peer benchmark script shares: one-line option
errors, integer-list options, and files written whole (temp file + rename)."""
import argparse
import os
import tempfile


class Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr and exit 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def positive(text):
    """argparse type: an integer >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def positive_list(text):
    """argparse type: '32,64,128' -> [32, 64, 128], each >= 1."""
    try:
        return [positive(v) for v in text.split(",")]
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of positive integers")


def check_out(prog, path, option="--csv"):
    """Exit with one line if PATH's folder does not exist (before hours of work)."""
    if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        raise SystemExit(f"{prog}: {option} {path}: its folder does not exist")


def write_atomic(path, data):
    """Write DATA (str or bytes) to PATH via a temp file in its folder + rename,
    so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".tmp-")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes it 0600
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_csv(path, header, rows):
    """A CSV (HEADER, then one line per row of values) at PATH, atomically."""
    lines = [header] + [",".join(str(v) for v in row) for row in rows]
    write_atomic(path, "\n".join(lines) + "\n")


def write_info(path, info):
    """The 'key: value' sidecar PATH (e.g. OUT.csv.info), atomically."""
    write_atomic(path, "".join(f"{k}: {v}\n" for k, v in info.items()))
