"""Small IDX files (MNIST's format) written by tests: the good ones and the damaged ones."""
import gzip

import numpy as np

from dcscratch import data


def write_idx(path, array, *, magic=None, cut=0, extra=b"", gzipped=False):
    """Write ``array`` (uint8) as an IDX file, optionally with another magic number, cut short,
    with bytes appended or gzipped."""
    array = np.asarray(array, dtype=np.uint8)
    magic = (0x08 << 8 | array.ndim) if magic is None else magic
    raw = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    raw = (raw + array.tobytes() + extra)[:len(raw) + array.size + len(extra) - cut]
    path.write_bytes(gzip.compress(raw) if gzipped else raw)
    return path


def write_idx_folder(folder, *, n_train=30, n_test=12, gzipped=True, seed=0):
    """MNIST's four IDX files with random images and labels; returns the arrays written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28)),
              "y_train": rng.integers(0, 10, n_train),
              "x_test": rng.integers(0, 256, (n_test, 28, 28)),
              "y_test": rng.integers(0, 10, n_test)}
    for key, name in data.IDX_FILES.items():
        write_idx(folder / (name + (".gz" if gzipped else "")), arrays[key], gzipped=gzipped)
    return arrays
