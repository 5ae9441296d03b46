"""DropConnect with the standard library only: ``random`` and lists of lists.

The slowest way and the easiest to read: one coin flip per weight.
"""
import random

from dcscratch.validation import _invalid, check_keep_prob, check_seed, check_shape


def bernoulli_mask(shape, keep_prob, *, seed=None):
    """Return nested lists of 0/1 ints, each 1 with probability ``keep_prob``.

    Args:
        shape: a positive int or a tuple of positive ints, e.g. ``(n_in, n_out)``.
        keep_prob: probability in (0, 1] that an entry is 1 (a connection is kept).
        seed: None for fresh randomness, or a non-negative int for a repeatable mask.
    """
    shape = check_shape(shape)
    keep_prob = check_keep_prob(keep_prob)
    rng = random.Random(check_seed(seed))

    def draw(dims):
        if len(dims) == 1:
            # random() lies in [0, 1), so keep_prob == 1 keeps every connection.
            return [1 if rng.random() < keep_prob else 0 for _ in range(dims[0])]
        return [draw(dims[1:]) for _ in range(dims[0])]

    return draw(shape)


def shape_of(W, argument="W"):
    """Return the shape of rectangular nested lists of floats, or raise."""
    expected = "non-empty, rectangular nested lists of floats"
    if isinstance(W, float):
        return ()
    if not isinstance(W, list):
        raise TypeError(_invalid(argument, expected, W))
    if not W:
        raise ValueError(_invalid(argument, expected, W))
    inner = [shape_of(row, argument) for row in W]
    if any(sub != inner[0] for sub in inner):
        raise ValueError(_invalid(argument, expected + " (these are ragged)", W))
    return (len(W),) + inner[0]


def dropconnect(W, keep_prob, *, seed=None):
    """Return M⊙W as new nested lists: each weight kept with probability ``keep_prob``, else 0.0.

    Unscaled (the paper's training-time convention); ``W`` is not modified.
    The mask is the one :func:`bernoulli_mask` draws for ``W``'s shape and the same seed.
    """
    shape = shape_of(W)
    if shape == ():
        raise TypeError(_invalid("W", "non-empty, rectangular nested lists of floats", W))
    mask = bernoulli_mask(shape, keep_prob, seed=seed)

    def apply(weights, kept):
        if isinstance(weights, float):
            return weights if kept else 0.0
        return [apply(w, m) for w, m in zip(weights, kept)]

    return apply(W, mask)
