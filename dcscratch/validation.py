"""Argument checks shared by every public function, with Keras-style messages.

Every check raises instead of repairing: a bad ``keep_prob`` is never
clipped, an integer weight matrix is never cast to float.
"""
import math
import numbers


def _invalid(argument, expected, value):
    return (f"Invalid value received for argument `{argument}`. "
            f"Expected {expected}. Received: {argument}={value!r}")


def check_keep_prob(keep_prob, argument="keep_prob"):
    """Return ``keep_prob`` as a Python float after checking it lies in (0, 1]."""
    expected = "a real number in the interval (0, 1] (the probability that a connection is kept)"
    # bool is a subclass of int, but True is not a probability someone meant to write.
    if isinstance(keep_prob, bool) or not isinstance(keep_prob, numbers.Real):
        raise TypeError(_invalid(argument, expected, keep_prob))
    value = float(keep_prob)
    if math.isnan(value) or math.isinf(value) or not 0.0 < value <= 1.0:
        raise ValueError(_invalid(argument, expected, keep_prob))
    return value


def check_seed(seed, argument="seed"):
    """Return ``seed`` after checking it is None or a non-negative integer."""
    expected = "None or a non-negative integer"
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(_invalid(argument, expected, seed))
    if seed < 0:
        raise ValueError(_invalid(argument, expected, seed))
    return int(seed)


def check_shape(shape, argument="shape"):
    """Return ``shape`` as a tuple of positive ints (an int means a 1-D shape)."""
    expected = "a positive integer or a non-empty tuple of positive integers"
    if hasattr(shape, "as_list") and getattr(shape, "rank", None) is not None:
        shape = tuple(shape.as_list())  # a TensorShape; unknown dimensions (None) fail below
    dims = (shape,) if isinstance(shape, numbers.Integral) and not isinstance(shape, bool) else shape
    if not isinstance(dims, (tuple, list)) or len(dims) == 0:
        raise TypeError(_invalid(argument, expected, shape))
    for dim in dims:
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(_invalid(argument, expected, shape))
        if dim < 1:
            raise ValueError(_invalid(argument, expected, shape))
    return tuple(int(dim) for dim in dims)


def check_choice(value, allowed, argument):
    """Return ``value`` after checking it is one of the strings in ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        expected = "one of " + ", ".join(repr(choice) for choice in allowed)
        raise ValueError(_invalid(argument, expected, value))
    return value


def check_positive_int(value, argument):
    """Return ``value`` after checking it is an integer >= 1."""
    expected = "a positive integer"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(_invalid(argument, expected, value))
    if value < 1:
        raise ValueError(_invalid(argument, expected, value))
    return int(value)


def check_bool(value, argument):
    """Return ``value`` after checking it is True or False (not 0, 1 or a string)."""
    if not isinstance(value, bool):
        raise TypeError(_invalid(argument, "True or False", value))
    return value


def check_non_negative_int(value, argument):
    """Return ``value`` after checking it is an integer >= 0."""
    expected = "a non-negative integer"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(_invalid(argument, expected, value))
    if value < 0:
        raise ValueError(_invalid(argument, expected, value))
    return int(value)


def check_real(value, argument, *, minimum, include_minimum):
    """Return ``value`` as a float after checking it is finite and >= (or >) ``minimum``."""
    bound = ">=" if include_minimum else ">"
    expected = f"a finite real number {bound} {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(_invalid(argument, expected, value))
    number = float(value)
    if (math.isnan(number) or math.isinf(number) or number < minimum
            or (number == minimum and not include_minimum)):
        raise ValueError(_invalid(argument, expected, value))
    return number


def check_float_array(W, argument="W"):
    """Return ``W`` as a NumPy array after checking it is non-empty and floating point."""
    import numpy as np

    expected = "a non-empty array of floating point numbers"
    if isinstance(W, (list, tuple)):
        try:
            W = np.asarray(W)
        except ValueError:  # NumPy refuses ragged nested lists
            raise ValueError(_invalid(argument, expected + " (rectangular, not ragged)",
                                      "<ragged nested lists>")) from None
    if not isinstance(W, np.ndarray):
        raise TypeError(_invalid(argument, expected, type(W).__name__))
    if W.dtype == object:
        raise ValueError(_invalid(argument, expected + " (rectangular, not ragged)",
                                  "<ragged nested lists>"))
    if not np.issubdtype(W.dtype, np.floating):
        raise TypeError(_invalid(argument, expected, f"<array of dtype {W.dtype}>"))
    if W.size == 0:
        raise ValueError(_invalid(argument, expected, f"<empty array of shape {W.shape}>"))
    return W


#: How far a row of probabilities may sum from 1 (float32 softmax rows are within ~1e-6).
PROBABILITY_TOLERANCE = 1e-4


def check_probabilities(probs, argument="probs"):
    """Return ``probs`` as a float64 array after checking it is 2-D with probability rows."""
    import numpy as np

    expected = (f"a 2-D float array (batch, classes) of values in [0, 1] whose rows sum to 1 "
                f"(within {PROBABILITY_TOLERANCE})")
    probs = check_float_array(probs, argument)
    if probs.ndim != 2:
        raise ValueError(_invalid(argument, expected, _describe(probs)))
    if not _are_probability_rows(probs):
        raise ValueError(_invalid(argument, expected, _describe(probs)))
    return probs.astype(np.float64)


def _are_probability_rows(array):
    import numpy as np

    return bool(np.all(np.isfinite(array)) and np.all(array >= 0) and np.all(array <= 1)
                and np.all(np.abs(array.sum(axis=1) - 1) <= PROBABILITY_TOLERANCE))


def check_labels(labels, batch, classes, argument="labels"):
    """Return ``labels`` after checking it is ``(batch,)`` integers in [0, classes)."""
    import numpy as np

    expected = f"a 1-D array of {batch} integers in [0, {classes})"
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):  # bool is not an integer dtype here
        raise TypeError(_invalid(argument, expected, _describe(labels)))
    if labels.shape != (batch,) or np.any(labels < 0) or np.any(labels >= classes):
        raise ValueError(_invalid(argument, expected, _describe(labels)))
    return labels


def _describe(array):
    """Short text for an array in an error message (its shape and dtype, not its values)."""
    shape = tuple(array.shape) if hasattr(array, "shape") else "?"
    dtype = getattr(array, "dtype", type(array).__name__)
    return f"<array of shape {shape}, dtype {dtype}>"
