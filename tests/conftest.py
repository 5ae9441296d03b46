"""Fixtures shared by the unit tests."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root():
    """The repository's root folder."""
    return ROOT


@pytest.fixture(scope="session")
def fashion_mnist_folder():
    """Debian's Fashion-MNIST folder; skipped without the package, a failure under CI
    (``.ci/run`` installs it, so CI must test the loader and the recomputation on it)."""
    from dcscratch import data

    if not data.FASHION_MNIST_DIR.is_dir():
        how = f"install it (Debian/Ubuntu: `sudo apt-get install {data.FASHION_MNIST_PACKAGE}`)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must test with Fashion-MNIST's files, but there is no "
                        f"{data.FASHION_MNIST_DIR}: {how}")
        pytest.skip(f"no Fashion-MNIST files: {how}")
    return data.FASHION_MNIST_DIR


def binomial_bound(n, keep_prob, sigmas=5.0):
    """Allowed |kept fraction − keep_prob| for n Bernoulli(keep_prob) draws: `sigmas` std devs.

    The kept count is Binomial(n, keep_prob) with standard deviation
    sqrt(n·keep_prob·(1−keep_prob)); dividing by n gives the fraction's.
    A correct sampler leaves this bound with probability < 1e-6 at 5 sigmas.
    """
    return sigmas * (keep_prob * (1 - keep_prob) / n) ** 0.5


@pytest.fixture(autouse=True)
def _op_determinism_does_not_leak():
    """Undo ``enable_op_determinism`` after a test that turned it on (set_seeds does).

    It is process-wide, and with it on Keras silently turns ``jit_compile`` off, so a test
    that runs after one that seeded would test something else. TensorFlow has no public
    switch back; its config module's is what ``enable_op_determinism`` itself calls.
    """
    yield
    import sys
    if "tensorflow" in sys.modules:
        from tensorflow.python.framework import config
        if config.is_op_determinism_enabled():
            config.disable_op_determinism()
