"""The layer's mask sampler keeps each entry with its stated exact probability, independently."""
import math

import numpy as np
import pytest

from conftest import binomial_bound
from dcscratch.keras_layer import batch_mask
from dcscratch.mask_sampler import (chunk_bits, exact_keep_prob, keep_mask, keep_masks,
                                    keep_threshold)
from dcscratch.per_example import chunk_masks
from dcscratch.tf_common import tf

DRAWS = (10_000, 1_000)  # 10^7 entries
# keep_prob, then the chunk width it needs: 1, 2, 4 and 8 bits are exact, 0.3 and 0.9 are not.
KEEP_PROBS = [(0.5, 1), (0.25, 2), (0.75, 2), (0.0625, 4), (3 / 256, 8), (0.3, 16), (0.9, 16)]


def seed(first, second=0):
    return tf.constant([first, second], tf.int64)


@pytest.mark.parametrize("keep_prob, bits", KEEP_PROBS)
def test_chunk_width_and_exact_probability(keep_prob, bits):
    assert chunk_bits(keep_prob) == bits
    assert exact_keep_prob(keep_prob) == math.ceil(keep_prob * 2**bits) / 2**bits
    assert 0 <= exact_keep_prob(keep_prob) - keep_prob < 2.0**-bits
    if bits < 16:
        assert exact_keep_prob(keep_prob) == keep_prob


def test_a_fractional_keep_prob_gets_sixteen_bits_and_the_ceiling():
    assert keep_threshold(0.3) == 19661  # 0.3 · 65536 = 19660.8
    assert exact_keep_prob(0.3) == 19661 / 65536


@pytest.mark.parametrize("keep_prob, bits", KEEP_PROBS)
def test_keep_rate_of_ten_million_draws_is_the_exact_probability(keep_prob, bits):
    mask = keep_mask(DRAWS, keep_prob, seed(bits)).numpy()
    assert mask.shape == DRAWS and mask.dtype == bool
    exact = exact_keep_prob(keep_prob)
    assert abs(mask.mean() - exact) < binomial_bound(mask.size, exact)


@pytest.mark.parametrize("keep_prob", [0.5, 0.25, 3 / 256, 0.3])
def test_neighbouring_entries_and_entries_sharing_a_byte_are_not_tied(keep_prob):
    flat = keep_mask(DRAWS, keep_prob, seed(11)).numpy().ravel()
    p = exact_keep_prob(keep_prob)
    lags = {1, 2, 3, 4, 8, 16}
    if chunk_bits(keep_prob) < 8:
        lags.add(flat.size * chunk_bits(keep_prob) // 8)  # e and e + B share a byte (B bytes)
    for lag in lags:
        both = flat[:-lag] & flat[lag:]
        # Var of a sum of overlapping pair indicators: p²(1−p²) each, plus 2(p³−p⁴) for the
        # pairs that share an entry; five standard deviations of the mean.
        sigma = math.sqrt((p**2 * (1 - p**2) + 2 * (p**3 - p**4)) / both.size)
        assert abs(both.mean() - p**2) < 5 * sigma, lag


@pytest.mark.parametrize("keep_prob", [0.5, 0.0625, 3 / 256, 0.3])
def test_same_seed_same_mask_other_seed_other_mask(keep_prob):
    shape = (37, 29)  # 1073 entries: not a whole number of words
    first = keep_mask(shape, keep_prob, seed(1, 2)).numpy()
    np.testing.assert_array_equal(first, keep_mask(shape, keep_prob, seed(1, 2)).numpy())
    assert not np.array_equal(first, keep_mask(shape, keep_prob, seed(1, 3)).numpy())
    assert not np.array_equal(first, keep_mask(shape, keep_prob, seed(2, 2)).numpy())


@pytest.mark.parametrize("keep_prob", [0.5, 0.25, 3 / 256, 0.3])
def test_xla_draws_the_same_mask(keep_prob):
    compiled = tf.function(lambda s: keep_mask((33, 40), keep_prob, s), jit_compile=True)
    np.testing.assert_array_equal(compiled(seed(4)).numpy(),
                                  keep_mask((33, 40), keep_prob, seed(4)).numpy())


@pytest.mark.parametrize("shape", [5, (3.0, 2), (-1, 2), tf.TensorShape([None, 3])])
def test_a_shape_that_is_not_static_is_rejected_by_name(shape):
    with pytest.raises(ValueError, match="argument `shape`.*static shape"):
        keep_mask(shape, 0.5, seed(0))


def test_a_symbolic_shape_is_rejected_by_name():
    @tf.function
    def draw(x):
        return keep_mask(tf.shape(x), 0.5, seed(0))

    with pytest.raises(ValueError, match="argument `shape`"):
        draw(tf.ones((2, 2)))


def test_keep_prob_one_keeps_everything():
    assert keep_mask((5, 3), 1.0, seed(0)).numpy().all()


def test_batch_and_per_example_modes_draw_from_this_sampler():
    expected = keep_mask((20, 30), 0.3, seed(5)).numpy()
    np.testing.assert_array_equal(batch_mask((20, 30), 0.3, seed(5), tf.float64).numpy(),
                                  expected.astype(np.float64))
    # Chunk c of the per-example masks: masks 4c … 4c + 3 of the seed's per-example masks,
    # the first of which is the batch mode's mask for the same seed.
    expected = keep_masks(12, 0, (20, 30), 0.5, seed(5)).numpy()[8:]
    np.testing.assert_array_equal(chunk_masks(2, seed(5), 4, 20, 30, 0.5, tf.float32).numpy(),
                                  expected.astype(np.float32))
    np.testing.assert_array_equal(keep_masks(1, 0, (20, 30), 0.5, seed(5)).numpy()[0],
                                  keep_mask((20, 30), 0.5, seed(5)).numpy())


@pytest.mark.parametrize("keep_prob", [0.5, 0.75, 0.3])
def test_per_example_masks_are_cut_from_one_stream_at_fixed_offsets(keep_prob):
    # Mask n is the same drawn alone, in a run of masks, or with a tensor offset under XLA.
    many = keep_masks(9, 0, (13, 7), keep_prob, seed(2)).numpy()
    np.testing.assert_array_equal(keep_masks(4, 5, (13, 7), keep_prob, seed(2)).numpy(), many[5:])
    compiled = tf.function(lambda first: keep_masks(2, first, (13, 7), keep_prob, seed(2)),
                           jit_compile=True)
    np.testing.assert_array_equal(compiled(tf.constant(3, tf.int64)).numpy(), many[3:5])
    assert len({mask.tobytes() for mask in many}) == 9  # nine different masks


def test_per_example_masks_keep_the_stated_fraction_independently_of_each_other():
    # 400 masks of 50 entries at keep_prob 0.3: the kept fraction within 4 binomial sd, and
    # the correlation between consecutive masks' entries within 4/sqrt(n) of 0.
    masks = keep_masks(400, 0, (50,), 0.3, seed(8)).numpy().astype(float)
    bound = 4 * np.sqrt(exact_keep_prob(0.3) * (1 - exact_keep_prob(0.3)) / masks.size)
    assert abs(masks.mean() - exact_keep_prob(0.3)) < bound
    correlation = np.corrcoef(masks[:-1].ravel(), masks[1:].ravel())[0, 1]
    assert abs(correlation) < 4 / np.sqrt(masks[1:].size)
