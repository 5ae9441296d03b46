"""The course's data: scikit-learn's bundled digits by default, MNIST only on request.

Nothing here downloads. The digits ship inside scikit-learn; MNIST is read from
a local ``mnist.npz`` (the file Keras caches) and only when asked for.
"""
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dcscratch.validation import check_seed

DIGITS_CLASSES = 10
KERAS_MNIST_CACHE = Path("~/.keras/datasets/mnist.npz")


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


def load_mnist(path=None, *, val_size=10_000):
    """Load MNIST from a local ``mnist.npz``; never downloads.

    Args:
        path: the ``.npz`` file (with arrays ``x_train``, ``y_train``, ``x_test``,
            ``y_test``); default ``~/.keras/datasets/mnist.npz``.
        val_size: how many of the last training images become the validation set.

    Returns:
        :class:`Splits` with 784 features per image scaled to [0, 1] (float32).

    Raises:
        FileNotFoundError: the file is missing; the message says how to get it.
    """
    file = mnist_path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"MNIST is opt-in and dcscratch never downloads it, but no file was found at "
            f"{file}. To use MNIST, on a machine with network access run\n"
            f"    python -c \"import keras; keras.datasets.mnist.load_data()\"\n"
            f"which saves ~/.keras/datasets/mnist.npz, copy that file here, or pass "
            f"path='.../mnist.npz'. The course runs without it on the bundled digits "
            f"(dcscratch.load_digits()).")
    with np.load(file) as arrays:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays.files)
        if missing:
            raise ValueError(f"Invalid value received for argument `path`. Expected an .npz "
                             f"with arrays x_train, y_train, x_test, y_test; {file} lacks "
                             f"{sorted(missing)}.")
        x_train, y_train = arrays["x_train"], arrays["y_train"]
        x_test, y_test = arrays["x_test"], arrays["y_test"]
    if not 0 < val_size < len(y_train):
        raise ValueError(f"Invalid value received for argument `val_size`. Expected an "
                         f"integer in [1, {len(y_train) - 1}]. Received: val_size={val_size!r}")

    def flat(images):
        return (images.reshape(len(images), -1) / 255.0).astype(np.float32)

    return Splits(flat(x_train[:-val_size]), y_train[:-val_size].astype(np.int64),
                  flat(x_train[-val_size:]), y_train[-val_size:].astype(np.int64),
                  flat(x_test), y_test.astype(np.int64), name="mnist")


def load_dataset(name="digits", *, seed=0, mnist_file=None):
    """Load ``"digits"`` (default, offline) or ``"mnist"`` (opt-in, local file)."""
    if name == "digits":
        return load_digits(seed)
    if name == "mnist":
        return load_mnist(mnist_file)
    raise ValueError("Invalid value received for argument `name`. Expected one of "
                     f"'digits', 'mnist'. Received: name={name!r}")
