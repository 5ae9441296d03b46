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


def binomial_bound(n, keep_prob, sigmas=5.0):
    """Allowed |kept fraction − keep_prob| for n Bernoulli(keep_prob) draws: `sigmas` std devs.

    The kept count is Binomial(n, keep_prob) with standard deviation
    sqrt(n·keep_prob·(1−keep_prob)); dividing by n gives the fraction's.
    A correct sampler leaves this bound with probability < 1e-6 at 5 sigmas.
    """
    return sigmas * (keep_prob * (1 - keep_prob) / n) ** 0.5
