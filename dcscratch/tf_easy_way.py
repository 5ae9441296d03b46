"""DropConnect the blog's "easy / recommended" way: ``tf.nn.dropout(W) * keep_prob``.

``tf.nn.dropout`` zeroes each entry with probability ``rate`` and divides the
survivors by ``1 - rate``; multiplying by ``keep_prob = 1 - rate`` undoes the
division, leaving M⊙W (up to one float rounding per kept weight, which
notebook 04 counts). A seed selects the stateless twin
``tf.nn.experimental.stateless_dropout`` so that the same seed always gives the
same mask.
"""
from dcscratch.tf_common import check_float_tensor, float_dtype, stateless_seed, tf
from dcscratch.validation import check_keep_prob, check_seed, check_shape


def _dropout(x, keep_prob, seed):
    rate = 1.0 - keep_prob  # TensorFlow speaks of the drop rate; we speak of keep_prob.
    if seed is None:
        return tf.nn.dropout(x, rate=rate)
    return tf.nn.experimental.stateless_dropout(x, rate=rate, seed=stateless_seed(seed))


def bernoulli_mask(shape, keep_prob, *, seed=None, dtype=tf.float32):
    """Return a tensor of 0/1 entries, each 1 with probability ``keep_prob``.

    It is the mask that :func:`dropconnect` applies to a ``W`` of this shape with the
    same seed: dropout of a tensor of ones, read as kept (non-zero) or dropped.
    """
    shape = check_shape(shape)
    keep_prob = check_keep_prob(keep_prob)
    seed = check_seed(seed)
    dtype = float_dtype(dtype)
    if keep_prob == 1.0:
        return tf.ones(shape, dtype)
    kept = _dropout(tf.ones(shape, dtype), keep_prob, seed) != 0
    # Comparing with 0 instead of multiplying by keep_prob: (1 / keep_prob) * keep_prob
    # is not always exactly 1 in floating point.
    return tf.cast(kept, dtype)


def dropconnect(W, keep_prob, *, seed=None):
    """Return ``dropout(W, rate=1 - keep_prob) * keep_prob`` ≈ M⊙W, same shape and dtype as W.

    ``keep_prob == 1`` returns W's values unchanged.
    """
    W = check_float_tensor(W)
    keep_prob = check_keep_prob(keep_prob)
    seed = check_seed(seed)
    if keep_prob == 1.0:
        return tf.identity(W)
    return _dropout(W, keep_prob, seed) * tf.cast(keep_prob, W.dtype)
