"""DropConnect with NumPy: one vectorised draw for the whole weight matrix."""
import numpy as np

from dcscratch.validation import check_float_array, check_keep_prob, check_seed, check_shape


def bernoulli_mask(shape, keep_prob, *, seed=None, dtype=np.float64):
    """Return an array of 0/1 entries, each 1 independently with probability ``keep_prob``.

    Args:
        shape: a positive int or a tuple of positive ints.
        keep_prob: probability in (0, 1] that an entry is 1 (a connection is kept).
        seed: None for fresh randomness, or a non-negative int for a repeatable mask.
        dtype: dtype of the returned mask (default float64, NumPy's default).
    """
    shape = check_shape(shape)
    keep_prob = check_keep_prob(keep_prob)
    rng = np.random.default_rng(check_seed(seed))
    # Uniforms lie in [0, 1), so keep_prob == 1 keeps every entry.
    return (rng.random(shape) < keep_prob).astype(dtype)


def dropconnect(W, keep_prob, *, seed=None):
    """Return M⊙W (unscaled), same shape and dtype as the floating-point array ``W``.

    The mask is the one :func:`bernoulli_mask` draws for ``W.shape`` and the same seed.
    """
    W = check_float_array(W)
    mask = bernoulli_mask(W.shape, keep_prob, seed=seed, dtype=bool)
    # where() rather than W * mask: a dropped weight becomes exactly 0, and kept ones are
    # the same bits as in W.
    return np.where(mask, W, W.dtype.type(0))
