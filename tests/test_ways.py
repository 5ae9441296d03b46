"""The four ways of writing DropConnect share one signature and one set of semantics."""
import math

import numpy as np
import pytest

from dcscratch import numpy_way, python_way, tf_easy_way, tf_hard_way
from dcscratch.tf_common import tf

from conftest import binomial_bound

WAYS = {"python": python_way, "numpy": numpy_way, "tf_hard": tf_hard_way, "tf_easy": tf_easy_way}
way_params = pytest.mark.parametrize("way", WAYS.values(), ids=WAYS.keys())


def as_array(result):
    """Any way's result as a NumPy array."""
    return result.numpy() if isinstance(result, tf.Tensor) else np.asarray(result)


def weights_for(way, values):
    """``values`` (a float32 NumPy array) in the form ``way`` takes W."""
    return values.tolist() if way is python_way else values


@way_params
@pytest.mark.parametrize("keep_prob", [0.05, 0.3, 0.5, 0.95])
@pytest.mark.parametrize("shape", [(4000,), (60, 70), (9, 11, 13)])
def test_kept_fraction_is_within_five_binomial_sigmas(way, keep_prob, shape):
    mask = as_array(way.bernoulli_mask(shape, keep_prob, seed=1234))
    assert mask.shape == shape
    assert set(np.unique(mask)) <= {0, 1}
    assert abs(mask.mean() - keep_prob) < binomial_bound(mask.size, keep_prob)


@way_params
def test_entries_are_independent_not_tied_along_rows_or_columns(way):
    # Tied masks (a whole row or column kept or dropped together) are Dropout, not DropConnect.
    mask = as_array(way.bernoulli_mask((200, 200), 0.5, seed=7))
    assert not np.any(np.all(mask == mask[:, :1], axis=1)), "a row is constant"
    assert not np.any(np.all(mask == mask[:1, :], axis=0)), "a column is constant"
    # Row sums are Binomial(200, 0.5): variance 50. Tied rows would give variance ≈ 10,000.
    assert 30 < mask.sum(axis=1).var() < 75
    # Neighbouring entries are uncorrelated: |r| below 5 standard errors (1/sqrt(n)).
    flat = mask.ravel() - mask.mean()
    lag_one = np.dot(flat[:-1], flat[1:]) / np.dot(flat, flat)
    assert abs(lag_one) < 5 / math.sqrt(flat.size)


@way_params
def test_same_seed_same_mask_other_seed_other_mask_no_seed_fresh(way):
    first = as_array(way.bernoulli_mask((30, 30), 0.5, seed=3))
    np.testing.assert_array_equal(first, as_array(way.bernoulli_mask((30, 30), 0.5, seed=3)))
    assert not np.array_equal(first, as_array(way.bernoulli_mask((30, 30), 0.5, seed=4)))
    assert not np.array_equal(as_array(way.bernoulli_mask((30, 30), 0.5)),
                              as_array(way.bernoulli_mask((30, 30), 0.5)))


@way_params
def test_dropconnect_is_the_seeded_mask_times_w_unscaled(way):
    W = np.random.default_rng(0).normal(size=(40, 30)).astype(np.float32)
    masked = as_array(way.dropconnect(weights_for(way, W), 0.6, seed=11))
    mask = as_array(way.bernoulli_mask(W.shape, 0.6, seed=11))
    # The easy way rounds once per kept weight: (w / keep_prob) * keep_prob (see notebook 04).
    np.testing.assert_allclose(masked, mask * W, rtol=2e-7, atol=0)
    assert np.all(masked[mask == 0] == 0)


@way_params
def test_keep_prob_one_returns_w_unchanged(way):
    W = np.random.default_rng(1).normal(size=(17, 5)).astype(np.float32)
    assert np.all(as_array(way.bernoulli_mask(W.shape, 1.0)) == 1)
    np.testing.assert_array_equal(as_array(way.dropconnect(weights_for(way, W), 1.0)), W)
    np.testing.assert_array_equal(as_array(way.dropconnect(weights_for(way, W), 1)), W)


@pytest.mark.parametrize("way", [numpy_way, tf_hard_way, tf_easy_way],
                         ids=["numpy", "tf_hard", "tf_easy"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dropconnect_keeps_shape_and_dtype(way, dtype):
    W = np.ones((6, 4), dtype=dtype)
    result = way.dropconnect(W, 0.5, seed=0)
    assert tuple(result.shape) == W.shape
    assert as_array(result).dtype == dtype


def test_python_way_uses_plain_lists_and_leaves_w_alone():
    W = [[0.5, -1.0], [2.0, 3.0]]
    copy = [row[:] for row in W]
    result = python_way.dropconnect(W, 0.5, seed=0)
    assert type(result) is list and all(type(row) is list for row in result)
    assert W == copy


def test_tf_hard_and_easy_ways_agree_in_distribution():
    # Two independent Binomial(n, p) fractions differ by at most 5·sqrt(2p(1-p)/n).
    for keep_prob in (0.1, 0.5, 0.9):
        n = 250_000
        hard = tf_hard_way.bernoulli_mask((n,), keep_prob, seed=5).numpy().mean()
        easy = tf_easy_way.bernoulli_mask((n,), keep_prob, seed=5).numpy().mean()
        assert abs(hard - easy) < 5 * math.sqrt(2 * keep_prob * (1 - keep_prob) / n)


BAD_KEEP_PROBS = [(0, ValueError), (0.0, ValueError), (-0.1, ValueError), (1.0001, ValueError),
                  (math.nan, ValueError), (math.inf, ValueError), (-math.inf, ValueError),
                  ("0.5", TypeError), (None, TypeError), (True, TypeError), ([0.5], TypeError)]


@way_params
@pytest.mark.parametrize("keep_prob, error", BAD_KEEP_PROBS)
def test_bad_keep_prob_is_rejected_naming_the_argument(way, keep_prob, error):
    with pytest.raises(error, match=r"`keep_prob`.*\(0, 1\].*Received: keep_prob="):
        way.bernoulli_mask((3, 3), keep_prob)
    with pytest.raises(error, match="`keep_prob`"):
        way.dropconnect(weights_for(way, np.ones((3, 3), np.float32)), keep_prob)


@way_params
@pytest.mark.parametrize("shape, error", [((), TypeError), ((3, 0), ValueError),
                                          ((-2,), ValueError), ((2.0, 3), TypeError),
                                          ("3", TypeError), (None, TypeError)])
def test_bad_shape_is_rejected_naming_the_argument(way, shape, error):
    with pytest.raises(error, match="`shape`"):
        way.bernoulli_mask(shape, 0.5)


@way_params
@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), ("7", TypeError),
                                         (True, TypeError)])
def test_bad_seed_is_rejected_naming_the_argument(way, seed, error):
    with pytest.raises(error, match="`seed`"):
        way.bernoulli_mask((2, 2), 0.5, seed=seed)


BAD_WEIGHTS = {
    "empty": ([], ValueError),
    "ragged": ([[1.0, 2.0], [3.0]], ValueError),
    "integers": ([[1, 2], [3, 4]], TypeError),
    "strings": ([["a", "b"]], TypeError),
}


@way_params
@pytest.mark.parametrize("name", BAD_WEIGHTS)
def test_bad_w_is_rejected_naming_the_argument(way, name):
    W, error = BAD_WEIGHTS[name]
    if way is not python_way and name == "integers":
        W = np.array(W)  # an integer array, not a list, for the array ways
    with pytest.raises(error, match="`W`"):
        way.dropconnect(W, 0.5)


@pytest.mark.parametrize("way", [numpy_way, tf_hard_way, tf_easy_way],
                         ids=["numpy", "tf_hard", "tf_easy"])
def test_empty_array_w_is_rejected(way):
    with pytest.raises(ValueError, match="`W`"):
        way.dropconnect(np.zeros((0, 3), np.float32), 0.5)


@pytest.mark.parametrize("way", [tf_hard_way, tf_easy_way], ids=["tf_hard", "tf_easy"])
def test_tf_ways_accept_a_tensor_shape(way):
    W = tf.ones((4, 3))
    assert tuple(way.bernoulli_mask(W.shape, 0.5, seed=0).shape) == (4, 3)
