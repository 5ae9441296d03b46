"""Per-example masks regenerated from a seed give what storing every mask gives."""
import numpy as np
import pytest

from conftest import binomial_bound
from dcscratch.per_example import (chunk_masks, per_example_masks, per_example_matmul,
                                   per_example_matmul_naive)
from dcscratch.tf_common import tf


def outputs_and_gradients(function, x, W, dout, **kwargs):
    x, W = tf.constant(x), tf.Variable(W)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        out = function(x, W, 0.6, tf.constant([3, 1], tf.int64), **kwargs)
        objective = tf.reduce_sum(out * dout)
    return out.numpy(), tape.gradient(objective, x).numpy(), tape.gradient(objective, W).numpy()


@pytest.mark.parametrize("batch, chunk_size", [(10, 4), (8, 8), (3, 16), (17, 1)])
def test_regenerated_masks_give_the_same_output_and_gradients_as_stored_masks(batch, chunk_size):
    rng = np.random.default_rng(batch)
    x, W = rng.normal(size=(batch, 7)), rng.normal(size=(7, 5))
    dout = rng.normal(size=(batch, 5))
    lean = outputs_and_gradients(per_example_matmul, x, W, dout, chunk_size=chunk_size)
    naive = outputs_and_gradients(per_example_matmul_naive, x, W, dout)
    for ours, reference in zip(lean, naive):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("keep_prob", [0.5, 0.3])
@pytest.mark.parametrize("in_features, out_features", [(7, 5), (16, 24), (12, 10)])
def test_masks_outputs_and_gradients_do_not_depend_on_the_chunk_size(keep_prob, in_features,
                                                                     out_features, dtype):
    # Chunk sizes 1, 3 (an uneven last chunk), 8 and the whole batch: the same masks, and the
    # same products and gradients bit for bit (each example's sums are the same additions in
    # the same order, and dW adds the examples in order). The shapes take the sums' three
    # paths: an axis summed at once (7, 5), in eight slices (16, 24), in four and two (12, 10).
    rng = np.random.default_rng(11)
    batch = 10
    x, W = rng.normal(size=(batch, in_features)), rng.normal(size=(in_features, out_features))
    x, W, dout = x.astype(dtype), W.astype(dtype), rng.normal(size=(batch, out_features)).astype(dtype)
    seed = tf.constant([5, 9], tf.int64)

    def run(chunk_size):
        x_t, W_t = tf.constant(x), tf.Variable(W)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x_t)
            out = per_example_matmul(x_t, W_t, keep_prob, seed, chunk_size)
            objective = tf.reduce_sum(out * dout)
        return out.numpy(), tape.gradient(objective, x_t).numpy(), tape.gradient(objective, W_t).numpy()

    reference = run(1)
    for chunk_size in (3, 8, batch, 16):  # 16: one chunk padded past the batch
        for ours, expected in zip(run(chunk_size), reference):
            np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("keep_prob", [0.5, 0.3])
def test_chunk_masks_stack_into_the_per_example_masks_whatever_the_chunk_size(keep_prob):
    batch, seed = 10, tf.constant([5, 9], tf.int64)
    masks = per_example_masks(batch, seed, 7, 5, keep_prob, tf.float64).numpy()
    for chunk_size in (1, 3, 8, batch):
        stacked = np.concatenate([chunk_masks(c, seed, chunk_size, 7, 5, keep_prob, tf.float64)
                                  .numpy() for c in range(-(-batch // chunk_size))])[:batch]
        np.testing.assert_array_equal(stacked, masks)
    # Example n's mask does not depend on the batch it is in either: the first rows of a
    # longer batch's masks are this batch's.
    longer = per_example_masks(batch + 5, seed, 7, 5, keep_prob, tf.float64).numpy()
    np.testing.assert_array_equal(longer[:batch], masks)


@pytest.mark.parametrize("chunk_size", [1, 4])
def test_under_xla_the_same_output_and_gradients_as_stored_masks(chunk_size):
    rng = np.random.default_rng(chunk_size)
    x, W, dout = rng.normal(size=(10, 7)), rng.normal(size=(7, 5)), rng.normal(size=(10, 5))

    @tf.function(jit_compile=True)
    def compiled(x, W):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch([x, W])
            out = per_example_matmul(x, W, 0.6, tf.constant([3, 1], tf.int64), chunk_size)
            objective = tf.reduce_sum(out * dout)
        return out, tape.gradient(objective, x), tape.gradient(objective, W)

    lean = [tensor.numpy() for tensor in compiled(tf.constant(x), tf.constant(W))]
    naive = outputs_and_gradients(per_example_matmul_naive, x, W, dout)
    for ours, reference in zip(lean, naive):
        # The same masks; XLA may only sum in another order (float64 rounding).
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


def test_gradients_match_the_formula_with_explicit_masks():
    rng = np.random.default_rng(0)
    x, W, dout = rng.normal(size=(6, 4)), rng.normal(size=(4, 3)), rng.normal(size=(6, 3))
    out, dx, dW = outputs_and_gradients(per_example_matmul, x, W, dout, chunk_size=4)
    seed = tf.constant([3, 1], tf.int64)
    M = per_example_masks(6, seed, 4, 3, 0.6, tf.float64).numpy()
    np.testing.assert_allclose(out, np.einsum("ni,nio->no", x, M * W), rtol=1e-12)
    np.testing.assert_allclose(dW, np.einsum("ni,no,nio->io", x, dout, M), rtol=1e-12)
    np.testing.assert_allclose(dx, np.einsum("no,nio->ni", dout, M * W), rtol=1e-12)


def test_chunk_masks_keep_the_stated_fraction_and_differ_between_chunks():
    seed = tf.constant([5, 0], tf.int64)
    first = chunk_masks(0, seed, 16, 64, 64, 0.3, tf.float32).numpy()
    second = chunk_masks(1, seed, 16, 64, 64, 0.3, tf.float32).numpy()
    assert abs(first.mean() - 0.3) < binomial_bound(first.size, 0.3)
    assert not np.array_equal(first, second)
    assert len({example.tobytes() for example in first}) == 16


def test_lean_version_runs_under_xla():
    x, W = tf.ones((9, 6)), tf.Variable(tf.ones((6, 4)))

    @tf.function(jit_compile=True)
    def step():
        with tf.GradientTape() as tape:
            out = per_example_matmul(x, W, 0.5, tf.constant([1, 2], tf.int64), chunk_size=4)
            loss = tf.reduce_sum(out)
        return out, tape.gradient(loss, W)

    out, dW = step()
    assert out.shape == (9, 4)
    # With x = 1 and dout = 1, dW counts how many of the 9 examples kept each connection.
    counts = dW.numpy()
    assert np.all((0 <= counts) & (counts <= 9)) and counts.sum() == out.numpy().sum()


def test_keep_prob_one_is_the_plain_product_and_its_gradients():
    rng = np.random.default_rng(4)
    x, W, dout = rng.normal(size=(5, 16)), rng.normal(size=(16, 8)), rng.normal(size=(5, 8))
    x_t, W_t = tf.constant(x), tf.Variable(W)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x_t)
        out = per_example_matmul(x_t, W_t, 1.0, tf.constant([1, 1], tf.int64), chunk_size=2)
        objective = tf.reduce_sum(out * dout)
    np.testing.assert_allclose(out.numpy(), x @ W, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tape.gradient(objective, x_t).numpy(), dout @ W.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tape.gradient(objective, W_t).numpy(), x.T @ dout, rtol=1e-12, atol=1e-12)


def test_outputs_may_differ_by_rounding_between_chunk_sizes_but_dW_never_does():
    # XLA may compile a chunk's sums in another order for another chunk size: at 64→64 in float32
    # the outputs of chunks of 1 and of 64 differ in the last bits (measured 2026-12-08: about
    # 2.6e-7 relative), while dW, which adds the examples in order, is the same bit for bit.
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(64, 64)).astype(np.float32), rng.normal(size=(64, 64)).astype(np.float32)
    dout = rng.normal(size=(64, 64)).astype(np.float32)

    def run(chunk_size):
        x_t, W_t = tf.constant(x), tf.Variable(W)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x_t)
            out = per_example_matmul(x_t, W_t, 0.5, tf.constant([1, 2], tf.int64), chunk_size)
            objective = tf.reduce_sum(out * dout)
        return out.numpy(), tape.gradient(objective, x_t).numpy(), tape.gradient(objective, W_t).numpy()

    reference = run(1)
    for chunk_size in (16, 64):
        out, dx, dW = run(chunk_size)
        np.testing.assert_array_equal(dW, reference[2])
        for ours, expected in ((out, reference[0]), (dx, reference[1])):
            scale = np.max(np.abs(expected))
            assert np.max(np.abs(ours - expected)) <= 1e-5 * scale  # float32 rounding, not more
