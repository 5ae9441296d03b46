"""DropConnect the blog's "unnecessarily hard" way: ``tf.random.categorical`` on log-probabilities.

Every weight is a draw from a two-class categorical distribution whose classes
are "drop" (index 0, probability 1 - keep_prob) and "keep" (index 1, probability
keep_prob). The blog wrote this with TF1's ``tf.multinomial``; TF2 calls it
``tf.random.categorical``. It works, and notebook 03 measures why it is slow.
"""
from dcscratch.tf_common import check_float_tensor, float_dtype, stateless_seed, tf
from dcscratch.validation import check_keep_prob, check_seed, check_shape


def bernoulli_mask(shape, keep_prob, *, seed=None, dtype=tf.float32):
    """Return a tensor of 0/1 entries, each 1 with probability ``keep_prob``.

    Args:
        shape: a positive int or a tuple of positive ints.
        keep_prob: probability in (0, 1] that an entry is 1 (a connection is kept).
        seed: None for fresh randomness, or a non-negative int for a repeatable mask.
        dtype: floating dtype of the mask (default float32).
    """
    shape = check_shape(shape)
    keep_prob = check_keep_prob(keep_prob)
    seed = check_seed(seed)
    dtype = float_dtype(dtype)
    num_weights = 1
    for dim in shape:
        num_weights *= dim
    # Class 0 = drop, class 1 = keep. log(0) = -inf when keep_prob == 1: class 0 is never drawn.
    log_probs = tf.math.log(tf.constant([[1.0 - keep_prob, keep_prob]], dtype=tf.float64))
    if seed is None:
        draws = tf.random.categorical(log_probs, num_samples=num_weights)
    else:
        draws = tf.random.stateless_categorical(log_probs, num_samples=num_weights,
                                                seed=stateless_seed(seed))
    # draws is int64 of shape [1, num_weights]: the class index is the mask value.
    return tf.cast(tf.reshape(draws, shape), dtype)


def dropconnect(W, keep_prob, *, seed=None):
    """Return M⊙W (unscaled), same shape and dtype as the floating-point tensor ``W``."""
    W = check_float_tensor(W)
    mask = bernoulli_mask(tuple(W.shape), keep_prob, seed=seed, dtype=W.dtype)
    return W * mask
