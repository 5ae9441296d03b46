"""Per-example DropConnect products without storing the batch × in × out mask.

With a mask per example (the paper's choice) the pre-activation of example n is
x_n @ (M_n⊙W). Materialising every M_n costs batch·in·out numbers: 80 million
floats (306 MiB) for a 784→800 layer at batch 128. Here the masks are drawn chunk
by chunk of the batch from a stateless seed, used, and thrown away; the backward
pass draws the same masks again from the same seed (the paper saved memory by
storing masks as bits; regenerating them stores nothing).

Example n's mask is mask n of the seed's per-example masks
(:func:`dcscratch.mask_sampler.keep_masks`): it depends on the seed and on n, not on
``chunk_size``, which is a knob for speed and memory only. The same seed gives the same
masks, outputs and gradients for every chunk size.

:func:`per_example_matmul_naive` computes the same thing with the same masks but
keeps them all and lets autodiff do the backward pass: it is the reference the
tests and the benchmark compare against.
"""
from dcscratch.mask_sampler import keep_masks
from dcscratch.tf_common import tf

# Eight examples at a time: on the Intel Xeon of 2026-12-07 (two cores) a training step of a
# 784→800 layer at batch 128 took a median 0.157 s in chunks of 8 against 0.243 s one example at
# a time, 0.161 s in chunks of 4, 0.175 s in 16 and 0.214 s in 32 (five interleaved rounds;
# `make bench` times them as rows). Its masks hold 8·in·out floats, 1/16 of the naive layer's
# batch·in·out at batch 128. The chunk size changes speed and memory only, never the masks.
DEFAULT_CHUNK_SIZE = 8


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
    """x_n @ (M_n⊙W) for every example n, storing at most one chunk of masks at a time.

    Same arguments and same result (and gradients) as :func:`per_example_matmul_naive`.
    """
    # Read a variable once, outside the custom gradient, which then sees plain tensors.
    x, W = tf.convert_to_tensor(x), tf.identity(W)
    in_features, out_features = W.shape

    def masks_of(chunk_index):
        return chunk_masks(chunk_index, seed, chunk_size, in_features, out_features,
                           keep_prob, W.dtype)

    @tf.custom_gradient
    def product(x, W):
        chunks, num_chunks, batch = _pad_to_chunks(x, chunk_size)

        def forward_chunk(args):
            x_chunk, chunk_index = args
            return tf.einsum("ni,nio->no", x_chunk, masks_of(chunk_index) * W)

        out = tf.map_fn(forward_chunk, (chunks, tf.range(num_chunks, dtype=tf.int64)),
                        fn_output_signature=W.dtype, parallel_iterations=1)
        out = tf.reshape(out, [-1, out_features])[:batch]

        # The backward pass returns dx and dW. Where nothing asks for dx (a network's first layer,
        # whose input is the data), TensorFlow prunes its products from the tf.function's graph:
        # timed on 2026-12-07 (docs/measurements.md), a 784→800 step at batch 128 asking for dx
        # too took 1.57× the step asking for dW only. Run eagerly, the loop runs as written.
        def backward(dout):
            dout_chunks, _, _ = _pad_to_chunks(dout, chunk_size)

            def body(chunk_index, dW, dx_chunks):
                masks = masks_of(chunk_index)  # the same masks as forward: same seed
                x_chunk, dout_chunk = chunks[chunk_index], dout_chunks[chunk_index]
                dx_chunks = dx_chunks.write(
                    tf.cast(chunk_index, tf.int32),
                    tf.einsum("no,nio->ni", dout_chunk, masks * W))
                # dW = Σ_n M_n ⊙ (x_n dout_nᵀ): only kept connections receive gradient.
                # (Written out: a three-operand einsum is about 4× slower here.)
                outer = x_chunk[:, :, None] * dout_chunk[:, None, :]
                dW += tf.reduce_sum(outer * masks, axis=0)
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
