"""Flipout and the Gaussian trick give every example DropConnect's noise (notebook 09)."""
import numpy as np
import pytest

from dcscratch import DropConnectDense
from dcscratch.fast_per_example import (flipout_masks, flipout_matmul, flipout_signs,
                                        gaussian_matmul, gaussian_noise)
from dcscratch.inference import gaussian_moments
from dcscratch.keras_layer import masked_matmul
from dcscratch.tf_common import tf

from conftest import binomial_bound

SEED = tf.constant([7, 11], tf.int64)


def normal(shape, seed, dtype=tf.float64):
    return tf.random.stateless_normal(shape, seed=[seed, 1], dtype=dtype)


def exact_product(x, masks, W):
    """x_n(M_n⊙W) for every example, with every mask stored: the reference."""
    return tf.einsum("ni,nio->no", x, masks * W)


def test_flipout_output_and_gradients_are_those_of_each_examples_recovered_mask():
    x, W, weights = normal((6, 9), 1), normal((9, 4), 2), normal((6, 4), 3)
    masks = flipout_masks(*flipout_signs(6, 9, 4, SEED, tf.float64))

    def loss_and_gradients(product):
        with tf.GradientTape() as tape:
            tape.watch([x, W])
            loss = tf.reduce_sum(weights * tf.tanh(product()))  # a non-linear loss
        return [loss, *tape.gradient(loss, [x, W])]

    flipout = loss_and_gradients(lambda: flipout_matmul(x, W, SEED))
    exact = loss_and_gradients(lambda: exact_product(x, masks, W))
    np.testing.assert_allclose(flipout_matmul(x, W, SEED), exact_product(x, masks, W),
                               rtol=1e-12, atol=1e-12)
    for got, expected in zip(flipout, exact):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_flipout_masks_are_zero_one_and_keep_half_of_each_examples_connections():
    masks = flipout_masks(*flipout_signs(64, 30, 40, SEED)).numpy()
    assert set(np.unique(masks)) == {0.0, 1.0}
    assert abs(masks.mean() - 0.5) < binomial_bound(masks.size, 0.5)
    per_example = masks.reshape(64, -1).mean(axis=1)
    assert np.all(np.abs(per_example - 0.5) < binomial_bound(30 * 40, 0.5))
    assert len({mask.tobytes() for mask in masks}) == 64  # every example its own mask


def test_the_same_seed_gives_the_same_noise_and_another_seed_new_noise():
    x, W = normal((5, 8), 4, tf.float32), normal((8, 3), 5, tf.float32)
    for product in (lambda seed: flipout_matmul(x, W, seed),
                    lambda seed: gaussian_matmul(x, W, 0.3, seed)):
        np.testing.assert_array_equal(product(SEED), product(SEED))
        assert not np.allclose(product(SEED), product(SEED + 1))


def test_gaussian_sample_is_the_mean_plus_the_standard_deviation_times_its_recovered_noise():
    x, W = normal((5, 8), 6), normal((8, 3), 7)
    mean, variance = gaussian_moments(x, W, 0.3)
    noise = gaussian_noise(5, 3, SEED, tf.float64)
    np.testing.assert_allclose(gaussian_matmul(x, W, 0.3, SEED),
                               mean + np.sqrt(variance) * noise, rtol=1e-12, atol=1e-12)


def test_gaussian_gradient_stays_finite_for_an_input_row_of_zeros():
    x = tf.concat([tf.zeros((1, 8), tf.float64), normal((3, 8), 8)], axis=0)
    W = tf.Variable(normal((8, 3), 9))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(gaussian_matmul(x, W, 0.5, SEED) ** 2)
    assert np.all(np.isfinite(tape.gradient(loss, W).numpy()))


@pytest.mark.parametrize("mode, keep_prob", [("flipout", 0.5), ("gaussian", 0.5),
                                             ("gaussian", 0.2), ("gaussian", 0.8)])
def test_identical_rows_get_their_own_noise_with_dropconnects_mean_and_variance(mode, keep_prob):
    rows, x, W = 20_000, normal((1, 25), 10), normal((25, 6), 11)
    out = masked_matmul(tf.repeat(x, rows, axis=0), W, keep_prob, SEED, mask=mode).numpy()
    assert len({row.tobytes() for row in out}) == rows
    # Exact DropConnect: E = keep_prob·xW, Var = keep_prob(1-keep_prob)(x⊙x)(W⊙W).
    mean, variance = (moment.numpy()[0] for moment in gaussian_moments(x, W, keep_prob))
    # The sample mean has sd σ/√n; the sample variance about σ²·√(2/n) (kurtosis ≤ 3 here:
    # Gaussian, or a sum of Bernoulli(½) terms, whose excess kurtosis is negative).
    np.testing.assert_array_less(np.abs(out.mean(axis=0) - mean), 5 * np.sqrt(variance / rows))
    np.testing.assert_array_less(np.abs(out.var(axis=0) - variance),
                                 5 * variance * np.sqrt(2 / rows))


@pytest.mark.parametrize("mode", ["flipout", "gaussian"])
def test_two_examples_of_a_batch_have_uncorrelated_noise(mode):
    pairs, x, W = 10_000, normal((2, 25), 12), normal((25, 6), 13)
    out = masked_matmul(tf.tile(x, [pairs, 1]), W, 0.5, SEED, mask=mode).numpy()
    noise = out - 0.5 * (tf.tile(x, [pairs, 1]) @ W).numpy()
    first, second = noise[0::2], noise[1::2]  # the two examples of each pair, every unit
    correlation = [np.corrcoef(first[:, unit], second[:, unit])[0, 1] for unit in range(6)]
    # Under no correlation the sample correlation has sd ≈ 1/√n.
    assert np.all(np.abs(correlation) < 5 / np.sqrt(pairs))
    # The same statistic sees the shared mask of mask="batch" (one mask per call): fully tied.
    shared = masked_matmul(tf.ones((pairs, 25), tf.float64), W, 0.5, SEED, mask="batch")
    assert np.all(np.ptp(shared.numpy(), axis=0) == 0)


@pytest.mark.parametrize("mode, keep_prob", [("flipout", 0.5), ("gaussian", 0.3)])
def test_expected_weight_gradient_equals_exact_dropconnects(mode, keep_prob):
    # L = ½ Σ_n ||x_n(M_n⊙W)||²: E[∂L/∂W_ij] = Σ_n x_ni (p²(xW)_nj + p(1−p) x_ni W_ij), p = keep_prob,
    # because E[M_ij M_kj] = p² for i ≠ k and p for i = k. Both modes match the first two moments
    # of each example's product, which is all this gradient depends on.
    x, W, draws = normal((4, 6), 14), normal((6, 3), 15), 4000
    expected = (x.numpy().T @ (keep_prob**2 * (x @ W).numpy())
                + keep_prob * (1 - keep_prob) * (x.numpy() ** 2).T @ np.ones((4, 3)) * W.numpy())

    @tf.function
    def gradient(seed):
        with tf.GradientTape() as tape:
            tape.watch(W)
            loss = 0.5 * tf.reduce_sum(masked_matmul(x, W, keep_prob, seed, mask=mode) ** 2)
        return tape.gradient(loss, W)

    gradients = np.stack([gradient(tf.constant([draw, 3], tf.int64)).numpy()
                          for draw in range(draws)])
    standard_error = gradients.std(axis=0, ddof=1) / np.sqrt(draws)
    np.testing.assert_array_less(np.abs(gradients.mean(axis=0) - expected), 5 * standard_error)
    # And the bound is tight enough to see a wrong rule: the gradient without the noise term.
    deterministic = keep_prob**2 * x.numpy().T @ (x @ W).numpy()
    assert np.any(np.abs(gradients.mean(axis=0) - deterministic) > 5 * standard_error)


@pytest.mark.parametrize("mode", ["flipout", "gaussian"])
def test_layer_trains_with_the_noise_of_its_mode_and_predicts_with_the_mean(mode):
    layer = DropConnectDense(5, 0.5, mask=mode, seed=3, use_bias=False)
    x = normal((8, 7), 16, tf.float32)
    layer(x)
    trained = layer(x, training=True).numpy()
    assert not np.allclose(trained, layer(x, training=True).numpy())  # new noise every call
    np.testing.assert_allclose(layer(x).numpy(), (x @ (0.5 * layer.kernel)).numpy(), rtol=1e-6)


def test_flipout_needs_keep_prob_one_half_and_says_what_to_use_instead():
    with pytest.raises(ValueError, match="argument `keep_prob`.*symmetric.*gaussian.*0.3"):
        DropConnectDense(4, 0.3, mask="flipout")
    with pytest.raises(ValueError, match="argument `keep_prob`"):
        masked_matmul(tf.ones((2, 3)), tf.ones((3, 4)), 0.7, SEED, mask="flipout")
    with pytest.raises(ValueError, match="argument `mask`.*flipout.*gaussian"):
        masked_matmul(tf.ones((2, 3)), tf.ones((3, 4)), 0.5, SEED, mask="flip")
