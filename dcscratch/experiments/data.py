"""The data a run sees: its dataset's splits, its share of the training split, the test labels.

A run's split seed is :func:`dcscratch.experiments.configs.split_seed` of its config and seed
(on the digits each seed draws its own split; MNIST and Fashion-MNIST keep their official one).
"""
from pathlib import Path

import numpy as np

from dcscratch.experiments.configs import split_seed


def load_data(dataset, mnist_file=None, data_dir=None, *, seed=0):
    """The dataset's splits; ``seed`` draws the digits' split (MNIST's is fixed).

    A run's split seed is :func:`dcscratch.experiments.configs.split_seed` of its config and
    seed (:func:`run_splits`).
    """
    from dcscratch.data import load_dataset

    return load_dataset(dataset, seed=seed, mnist_file=mnist_file, data_dir=data_dir)


def run_splits(config, seed, mnist_file=None, data_dir=None, *, cache=None):
    """The splits a run of ``config`` with ``seed`` trains, validates and tests on.

    Args:
        cache: a dict reused across calls: each split seed is loaded once.
    """
    key = split_seed(config, seed)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = load_data(config["dataset"], mnist_file, data_dir, seed=key)
    return cache[key]


def training_subset(splits, fraction, seed):
    """A stratified ``fraction`` of the training split, drawn with ``seed``."""
    if fraction >= 1.0:
        return splits.x_train, splits.y_train
    from sklearn.model_selection import train_test_split

    x, _, y, _ = train_test_split(splits.x_train, splits.y_train, train_size=fraction,
                                  stratify=splits.y_train, random_state=seed)
    return x, y


def paper_test_labels(out, config, mnist_file=None, data_dir=None):
    """The test labels for the voting column: ``out/probabilities/test_labels.npy``.

    Written from the data the first time (so that the report and notebook 10 can vote
    without the data files), read back afterwards.
    """
    path = Path(out) / "probabilities" / "test_labels.npy"
    if not path.exists():
        labels = load_data(config["dataset"], mnist_file, data_dir).y_test
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, labels.astype(np.int8))
    return np.load(path).astype(np.int64)

