"""The course's data: scikit-learn's bundled digits by default, MNIST and Fashion-MNIST on request.

Nothing here downloads. The digits ship inside scikit-learn; MNIST is read from a local
``mnist.npz`` (the file Keras caches) or a folder of its original IDX files; Fashion-MNIST
(Xiao et al., 2017, a drop-in replacement for MNIST: 28×28 grey images of ten kinds of
clothing) from its IDX files, by default where Debian's ``dataset-fashion-mnist`` puts them.
"""
import gzip
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcscratch.validation import check_choice, check_seed

DIGITS_CLASSES = 10
KERAS_MNIST_CACHE = Path("~/.keras/datasets/mnist.npz")
# Where Debian's package dataset-fashion-mnist installs the four IDX files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
# The four files of MNIST and of Fashion-MNIST (same names), each optionally gzipped.
IDX_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
# An IDX file starts with 0x00 0x00, a type code (0x08: unsigned bytes) and the number of
# dimensions, then one big-endian 32-bit size per dimension, then the values.
IDX_UNSIGNED_BYTE = 0x08
_IDX_SHAPES = {"x_train": (None, 28, 28), "y_train": (None,), "x_test": (None, 28, 28),
               "y_test": (None,)}
_WHERE_FROM = {
    "fashion-mnist": (f"On Debian or Ubuntu: `sudo apt-get install {FASHION_MNIST_PACKAGE}` "
                      f"(it puts them in {FASHION_MNIST_DIR}); elsewhere, on a machine with "
                      f"network access, download the four files from "
                      f"https://github.com/zalandoresearch/fashion-mnist (data/fashion) and pass "
                      f"their folder as path= (or --data-dir)."),
    "mnist": ("They come from http://yann.lecun.com/exdb/mnist/ (or a mirror); on a machine "
              "with network access download the four files and pass their folder as path= "
              "(or --data-dir), or use Keras's mnist.npz instead."),
}


@dataclass(frozen=True)
class Splits:
    """Train/validation/test arrays: inputs ``(n, features)`` float32 in [0, 1], labels int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str

    @property
    def num_features(self):
        return self.x_train.shape[1]

    @property
    def num_classes(self):
        return int(max(self.y_train.max(), self.y_val.max(), self.y_test.max())) + 1

    def sizes(self):
        """Return ``{"train": n, "val": n, "test": n}``."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}

    def fingerprint(self):
        """SHA-256 of every split's labels and the validation and test images, in order.

        Two runs with the same fingerprint were validated and tested on the same images and
        trained on the same labelled examples (a cheap check that skips the training images).
        """
        import hashlib

        digest = hashlib.sha256()
        for array in (self.y_train, self.y_val, self.y_test, self.x_val, self.x_test):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def load_digits(seed=0, *, val_fraction=0.2, test_fraction=0.2):
    """Load the 8x8 digits (1,797 images) as fixed, stratified, seeded splits.

    Args:
        seed: non-negative integer; the same seed always gives the same split.
        val_fraction, test_fraction: shares of the 1,797 images held out, each in (0, 0.5).

    Returns:
        :class:`Splits` with 64 features per image scaled from 0..16 to [0, 1] (float32).
    """
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    seed = check_seed(seed)
    if seed is None:
        raise TypeError("Invalid value received for argument `seed`. "
                        "Expected a non-negative integer. Received: seed=None")
    for argument, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 0.5:
            raise ValueError(f"Invalid value received for argument `{argument}`. "
                             f"Expected a number in the open interval (0, 0.5). "
                             f"Received: {argument}={value!r}")
    digits = sklearn_digits()
    images = (digits.data / 16.0).astype(np.float32)  # pixel values are 0..16
    labels = digits.target.astype(np.int64)
    x_rest, x_test, y_rest, y_test = train_test_split(
        images, labels, test_size=test_fraction, stratify=labels, random_state=seed)
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=val_fraction / (1 - test_fraction), stratify=y_rest,
        random_state=seed)
    return Splits(x_train, y_train, x_val, y_val, x_test, y_test, name="digits")


def mnist_path(path=None):
    """Return where MNIST is looked for: ``path`` if given, else Keras's cache file."""
    if path is not None:
        return Path(os.fspath(path)).expanduser()
    return KERAS_MNIST_CACHE.expanduser()


class DataFileError(ValueError):
    """A data file that is there but truncated, damaged or not the file it should be."""


def read_idx(path, *, shape, source="fashion-mnist"):
    """Read one IDX file of unsigned bytes (LeCun's MNIST format), gzipped or not.

    Args:
        path: the file.
        shape: the expected shape, ``None`` where any size will do (e.g. ``(None, 28, 28)``).
        source: ``"fashion-mnist"`` or ``"mnist"``: which data the file belongs to, for the
            advice in error messages.

    Returns:
        A ``uint8`` array of the shape the header gives.

    Raises:
        FileNotFoundError: no file at ``path``.
        DataFileError: (a ValueError) a truncated, damaged or foreign file; the message names
            it and says how to get the right one.
    """
    path = Path(path)
    advice = _WHERE_FROM[source]
    if not path.is_file():
        raise FileNotFoundError(f"No IDX file at {path}. {advice}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip's magic number, whatever the file is called
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError) as error:
            raise DataFileError(f"{path} is a damaged or truncated gzip file ({error}). "
                             f"{advice}") from None
    expected_magic = (IDX_UNSIGNED_BYTE << 8) | len(shape)
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    if magic != expected_magic:
        found = "fewer than 4 bytes" if magic is None else f"0x{magic:08x}"
        raise DataFileError(
            f"{path} is not an IDX file of {len(shape)}-dimensional unsigned bytes: its magic "
            f"number is {found}, expected 0x{expected_magic:08x}. It is a foreign or damaged "
            f"file. {advice}")
    header = 4 + 4 * len(shape)
    if len(raw) < header:
        raise DataFileError(f"{path} is truncated inside its header ({len(raw)} bytes). {advice}")
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(len(shape)))
    if any(want is not None and got != want for got, want in zip(dims, shape)):
        raise DataFileError(f"{path} holds an array of shape {dims}, expected "
                         f"{tuple('n' if d is None else d for d in shape)}. It is a foreign "
                         f"file. {advice}")
    size = int(np.prod(dims))
    if len(raw) - header != size:
        state = "truncated" if len(raw) - header < size else "longer than its header says"
        raise DataFileError(f"{path} is {state}: its header promises {size} bytes of values "
                         f"{dims}, it holds {len(raw) - header}. {advice}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def load_idx_folder(folder, *, source="fashion-mnist"):
    """Read MNIST's four IDX files (or Fashion-MNIST's, same names) from ``folder``.

    Each of ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` may be gzipped (``.gz``).

    Returns:
        dict of ``x_train`` ``(n, 28, 28)``, ``y_train`` ``(n,)``, ``x_test`` ``(m, 28, 28)``,
        ``y_test`` ``(m,)``, all ``uint8``; labels checked to lie in 0..9 and to be as many
        as the images.
    """
    folder = Path(os.fspath(folder)).expanduser()
    advice = _WHERE_FROM[source]
    if not folder.is_dir():
        raise FileNotFoundError(f"No folder {folder} with the IDX files of {source} "
                                f"(dcscratch never downloads them). {advice}")
    arrays = {}
    for key, name in IDX_FILES.items():
        candidates = [folder / name, folder / f"{name}.gz"]
        found = next((file for file in candidates if file.is_file()), None)
        if found is None:
            raise FileNotFoundError(f"{folder} lacks {name} (or {name}.gz), one of the four "
                                    f"IDX files of {source}. {advice}")
        arrays[key] = read_idx(found, shape=_IDX_SHAPES[key], source=source)
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(images) != len(labels):
            raise DataFileError(f"{folder}: the {split} images are {len(images)} but their labels "
                             f"{len(labels)}; the files do not belong together. {advice}")
        if labels.size and labels.max() >= DIGITS_CLASSES:
            raise DataFileError(f"{folder}: a {split} label is {labels.max()}, outside 0..9; a "
                             f"foreign labels file. {advice}")
    return arrays


def fashion_mnist_path(path=None):
    """Return where Fashion-MNIST is looked for: ``path`` if given, else Debian's folder."""
    return FASHION_MNIST_DIR if path is None else Path(os.fspath(path)).expanduser()


def load_fashion_mnist(path=None, *, val_size=10_000):
    """Load Fashion-MNIST from its four local IDX files; never downloads.

    Args:
        path: the folder holding the IDX files (gzipped or not); default
            ``/usr/share/datasets/fashion-mnist``, where ``apt-get install
            dataset-fashion-mnist`` puts them.
        val_size: how many of the last training images become the validation split.

    Returns:
        :class:`Splits` named ``"fashion-mnist"``: 784 features per image scaled from 0..255 to
        [0, 1] (float32), labels int64; with the defaults 50,000 / 10,000 / 10,000 images (the
        official 10,000 test images are the test split).

    Raises:
        FileNotFoundError: the folder or a file is missing; the message says how to get it.
        DataFileError: (a ValueError) a truncated, damaged or foreign file, named in the message.
    """
    arrays = load_idx_folder(fashion_mnist_path(path), source="fashion-mnist")
    return _holdout_splits(arrays, val_size, "fashion-mnist")


def load_mnist(path=None, *, val_size=10_000):
    """Load MNIST from a local ``mnist.npz`` or a folder of its IDX files; never downloads.

    Args:
        path: the ``.npz`` file (with arrays ``x_train``, ``y_train``, ``x_test``,
            ``y_test``) or a folder holding MNIST's four original IDX files (see
            :func:`load_idx_folder`); default ``~/.keras/datasets/mnist.npz``.
        val_size: how many of the last training images become the validation set.

    Returns:
        :class:`Splits` with 784 features per image scaled to [0, 1] (float32).

    Raises:
        FileNotFoundError: the file is missing; the message says how to get it.
    """
    file = mnist_path(path)
    if file.is_dir():
        return _holdout_splits(load_idx_folder(file, source="mnist"), val_size, "mnist")
    if not file.is_file():
        raise FileNotFoundError(
            f"MNIST is opt-in and dcscratch never downloads it, but no file was found at "
            f"{file}. To use MNIST, on a machine with network access run\n"
            f"    python -c \"import keras; keras.datasets.mnist.load_data()\"\n"
            f"which saves ~/.keras/datasets/mnist.npz, copy that file here, or pass "
            f"path='.../mnist.npz' (or a folder of MNIST's four IDX files). The course runs "
            f"without it on the bundled digits (dcscratch.load_digits()).")
    with np.load(file) as arrays:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays.files)
        if missing:
            raise ValueError(f"Invalid value received for argument `path`. Expected an .npz "
                             f"with arrays x_train, y_train, x_test, y_test; {file} lacks "
                             f"{sorted(missing)}.")
        arrays = {key: arrays[key] for key in ("x_train", "y_train", "x_test", "y_test")}
    return _holdout_splits(arrays, val_size, "mnist")


def _holdout_splits(arrays, val_size, name):
    """:class:`Splits` with the last ``val_size`` training images as the validation split."""
    x_train, y_train = arrays["x_train"], arrays["y_train"]
    x_test, y_test = arrays["x_test"], arrays["y_test"]
    if (isinstance(val_size, bool) or not isinstance(val_size, numbers.Integral)
            or not 0 < val_size < len(y_train)):
        raise ValueError(f"Invalid value received for argument `val_size`. Expected an "
                         f"integer in [1, {len(y_train) - 1}]. Received: val_size={val_size!r}")

    def flat(images):
        return (images.reshape(len(images), -1) / 255.0).astype(np.float32)

    return Splits(flat(x_train[:-val_size]), y_train[:-val_size].astype(np.int64),
                  flat(x_train[-val_size:]), y_train[-val_size:].astype(np.int64),
                  flat(x_test), y_test.astype(np.int64), name=name)


DATASET_NAMES = ("digits", "mnist", "fashion-mnist")


def load_dataset(name="digits", *, seed=0, mnist_file=None, data_dir=None):
    """Load ``"digits"`` (default, offline), ``"mnist"`` or ``"fashion-mnist"`` (local files).

    ``data_dir`` is the folder of IDX files for ``"fashion-mnist"`` (default Debian's) or
    ``"mnist"`` (there it takes precedence over ``mnist_file``, the ``mnist.npz``).
    """
    check_choice(name, DATASET_NAMES, "name")
    if name == "digits":
        return load_digits(seed)
    if name == "mnist":
        return load_mnist(data_dir if data_dir is not None else mnist_file)
    return load_fashion_mnist(data_dir)
