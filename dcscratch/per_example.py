"""Per-example DropConnect products without storing the batch × in × out mask.

With a mask per example (the paper's choice) the pre-activation of example n is
x_n @ (M_n⊙W). Materialising every M_n costs batch·in·out numbers: 80 million
floats (306 MiB) for a 784→800 layer at batch 128. Here the masks are drawn from a
stateless seed where they are used and thrown away; the backward pass draws the same masks
again from the same seed (the paper saved memory by storing masks as bits; regenerating them
stores nothing).

Example n's mask is mask n of the seed's per-example masks
(:func:`dcscratch.mask_sampler.keep_masks`): it depends on the seed and on n only. The batch
is worked through ``chunk_size`` examples at a time, each chunk by XLA-compiled functions that
fuse drawing the masks, applying them and summing. The chunk size is a knob for speed: the masks
do not depend on it, and dW is the same bit for bit for every chunk size (it adds the examples in
order). The outputs and dx are the same up to floating-point rounding: XLA may compile a chunk's
sums in another order for another chunk size. They were bit for bit the same for 784→800 and the
small layers of ``tests/test_per_example.py``, but not for 64→64 in float32 (relative
differences of about 2e-7;
``test_outputs_may_differ_by_rounding_between_chunk_sizes_but_dW_never_does``).

:func:`per_example_matmul_naive` computes the same thing with the same masks but
keeps them all and lets autodiff do the backward pass: it is the reference the
tests and the benchmark compare against.
"""
import math

from dcscratch import mask_sampler
from dcscratch.mask_sampler import keep_masks
from dcscratch.tf_common import tf

# Sixteen examples at a time: in `make bench` on the Intel Xeon of 2026-12-08 (two cores, not
# quiet) one 784→800 layer's training step at batch 128 took 0.28 of the naive stored-mask layer's
# time in chunks of 16 against 0.34 in 8, 0.33 in 32, 0.32 in 64 and 1.34 one example at a time,
# and peaked at 0.09 of its memory; the whole 784→800→800→10 step took 37.6× a Dense step
# (docs/measurements.md). One run, no paired test between the sizes. The chunk size changes speed
# only (the masks are never stored); the results agree up to floating-point rounding (dW bit for bit).
DEFAULT_CHUNK_SIZE = 16


def chunk_masks(chunk_index, seed, chunk_size, in_features, out_features, keep_prob, dtype):
    """The 0/1 masks of chunk ``chunk_index``: examples ``chunk_index·chunk_size`` on.

    Shape ``(chunk_size, in, out)``. They are :func:`dcscratch.mask_sampler.keep_masks`'s, as
    the batch mode's mask is ``keep_mask``'s: each entry is 1 with probability
    ⌈keep_prob·2^k⌉/2^k.
    """
    first = tf.cast(chunk_index, tf.int64) * chunk_size
    return tf.cast(keep_masks(chunk_size, first, (in_features, out_features), keep_prob, seed),
                   dtype)


def _pad_to_chunks(x, chunk_size):
    batch = tf.shape(x)[0]
    num_chunks = (batch + chunk_size - 1) // chunk_size
    padded = tf.pad(x, [[0, num_chunks * chunk_size - batch], [0, 0]])
    return tf.reshape(padded, [num_chunks, chunk_size, -1]), num_chunks, batch


def per_example_masks(batch, seed, in_features, out_features, keep_prob, dtype):
    """Every example's 0/1 mask, shape ``(batch, in, out)``: the masks
    :func:`per_example_matmul` uses with the same seed, whatever its chunk size.

    ``batch`` may be a tensor (all the masks are drawn at once).
    """
    return tf.cast(keep_masks(batch, 0, (in_features, out_features), keep_prob, seed), dtype)


def per_example_matmul_naive(x, W, keep_prob, seed):
    """x_n @ (M_n⊙W) for every example n, with all masks stored (batch × in × out).

    Args:
        x: ``(batch, in)``; W: ``(in, out)``; keep_prob: Python
            float in (0, 1]; seed: int64 tensor of shape [2].
    """
    in_features, out_features = W.shape
    masks = per_example_masks(tf.shape(x)[0], seed, in_features, out_features, keep_prob, W.dtype)
    return tf.einsum("ni,nio->no", x, masks * W)


def per_example_matmul(x, W, keep_prob, seed, chunk_size=DEFAULT_CHUNK_SIZE):
    """x_n @ (M_n⊙W) for every example n, never storing the masks.

    Same arguments and same result (and gradients) as :func:`per_example_matmul_naive`, up to
    floating-point rounding; dW is the same bit for bit for every ``chunk_size``, the result and
    dx up to rounding (see the module's docstring). ``seed`` is a tensor, not a ``tf.Variable``
    (read a variable first: ``seed.read_value()``; TensorFlow refuses a variable inside the
    custom gradient).
    """
    # Read a variable once, outside the custom gradient, which then sees plain tensors.
    x, W = tf.convert_to_tensor(x), tf.identity(W)
    in_features, out_features = W.shape

    def first_of(chunk_index):
        return tf.cast(chunk_index, tf.int64) * chunk_size

    @tf.custom_gradient
    def product(x, W):
        chunks, num_chunks, batch = _pad_to_chunks(x, chunk_size)
        out = tf.map_fn(
            lambda args: _forward_chunk(args[0], W, seed, first_of(args[1]), keep_prob),
            (chunks, tf.range(num_chunks, dtype=tf.int64)),
            fn_output_signature=W.dtype, parallel_iterations=1)
        out = tf.reshape(out, [-1, out_features])[:batch]

        # The backward pass returns dx and dW, each chunk's from its own compiled function. Where
        # nothing asks for dx (a network's first layer, whose input is the data), TensorFlow prunes
        # its function calls from the tf.function's graph: a 784→800 step at batch 128 asking for
        # dx too took 1.57× the step asking for dW only on 2026-12-07, and 1.89× with this fused
        # code on 2026-12-08 (docs/measurements.md). Run eagerly, the loop runs as written.
        def backward(dout):
            dout_chunks, _, _ = _pad_to_chunks(dout, chunk_size)

            def body(chunk_index, dW, dx_chunks):
                first = first_of(chunk_index)  # the same masks as forward: same seed, same examples
                x_chunk, dout_chunk = chunks[chunk_index], dout_chunks[chunk_index]
                dx_chunks = dx_chunks.write(tf.cast(chunk_index, tf.int32),
                                            _input_gradient_chunk(dout_chunk, W, seed, first, keep_prob))
                dW = _add_weight_gradient_chunk(dW, x_chunk, dout_chunk, seed, first, keep_prob)
                return chunk_index + 1, dW, dx_chunks

            _, dW, dx_chunks = tf.while_loop(
                lambda chunk_index, *_: chunk_index < tf.cast(num_chunks, tf.int64),
                body,
                (tf.constant(0, tf.int64), tf.zeros_like(W),
                 tf.TensorArray(W.dtype, size=num_chunks)),
                parallel_iterations=1)
            dx = tf.reshape(dx_chunks.stack(), [-1, in_features])[:batch]
            return dx, dW

        return out, backward

    return product(x, W)


# Each chunk's work is one XLA-compiled function: XLA fuses drawing the masks, applying them and
# summing into loops that never store the masks or the masked weights. dW adds the examples in
# order, the same for every chunk size; the outputs' and dx's sums are written the same way for
# every chunk, but XLA may order them differently for another chunk size (the module's docstring).

def _kept_weights(W, seed, first, count, keep_prob):
    """M_n⊙W for examples ``first`` … ``first + count - 1``: shape (count, in, out)."""
    masks = keep_masks(count, first, tuple(W.shape), keep_prob, seed)
    return tf.where(masks, W, tf.zeros((), W.dtype))


def _sum(values, axis):
    """``values`` summed over ``axis``: eight contiguous slices added first, then the rest.

    XLA on a CPU summed a long axis of a fused product several times more slowly than it added
    whole slices, in a development timing on the Intel Xeon on 2026-12-08 (not a recorded
    benchmark run): a 784→800 forward chunk of 8 took about 1.8 ms per example summed at once and
    0.43 ms in eight slices. Where the axis does not split into 8 (or 4, or 2) equal slices it is
    summed at once.
    """
    size = values.shape[axis]
    slices = next(count for count in (8, 4, 2, 1) if size % count == 0)
    width = size // slices
    index = [slice(None)] * len(values.shape)
    total = None
    for start in range(0, size, width):
        index[axis] = slice(start, start + width)
        total = values[tuple(index)] if total is None else total + values[tuple(index)]
    return tf.reduce_sum(total, axis=axis)


@tf.function(jit_compile=True)
def _forward_chunk(x_chunk, W, seed, first, keep_prob):
    """x_n @ (M_n⊙W) for the chunk's examples: Σ_i x_ni (M_n⊙W)_io."""
    kept = _kept_weights(W, seed, first, x_chunk.shape[0], keep_prob)
    return _sum(x_chunk[:, :, None] * kept, axis=1)


@tf.function(jit_compile=True)
def _input_gradient_chunk(dout_chunk, W, seed, first, keep_prob):
    """dx_n = (M_n⊙W) dout_n for the chunk's examples: Σ_o (M_n⊙W)_io dout_no."""
    kept = _kept_weights(W, seed, first, dout_chunk.shape[0], keep_prob)
    return _sum(kept * dout_chunk[:, None, :], axis=2)


@tf.function(jit_compile=True)
def _add_weight_gradient_chunk(dW, x_chunk, dout_chunk, seed, first, keep_prob):
    """dW + Σ_n M_n ⊙ (x_n dout_nᵀ) over the chunk's examples: only kept connections get gradient.

    Added one example at a time, in order, so that dW is the same sum, in the same order, for
    every chunk size.
    """
    # The chunk's random words (k bits per entry) are drawn at once, and each example's mask is
    # cut from its row where it is used: cutting the chunk's masks first would hold them all.
    words = _mask_words(x_chunk.shape[0], first, dW.shape, keep_prob, seed)
    zero = tf.zeros((), dW.dtype)
    for n in range(x_chunk.shape[0]):
        mask = _mask_from_words(words[n:n + 1], dW.shape, keep_prob)
        dW = dW + tf.where(mask, x_chunk[n][:, None] * dout_chunk[n][None, :], zero)
    return dW


def _mask_words(count, first, shape, keep_prob, seed):
    """The random words :func:`~dcscratch.mask_sampler.keep_masks` cuts masks ``first`` …
    ``first + count - 1`` from: one row of ``words_per_mask`` uint32 words per mask."""
    entries = math.prod(shape)
    words = mask_sampler.words_per_mask(entries, keep_prob)
    blocks = mask_sampler.blocks_per_mask(entries, keep_prob)
    stretch = mask_sampler.random_words(count * blocks * mask_sampler.WORDS_PER_BLOCK, seed,
                                        tf.cast(first, tf.uint64) * blocks)
    return tf.reshape(stretch, (-1, blocks * mask_sampler.WORDS_PER_BLOCK))[:, :words]


def _mask_from_words(words, shape, keep_prob):
    """The boolean mask, of ``shape``, that one row of :func:`_mask_words` gives (``words``:
    shape (1, words_per_mask)): the same cut as :func:`~dcscratch.mask_sampler.keep_masks`."""
    if keep_prob == 1.0:
        return tf.ones(shape, tf.bool)
    return tf.reshape(mask_sampler._keep_from_words(words, math.prod(shape), keep_prob), shape)
