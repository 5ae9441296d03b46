"""Numerical gradients and the relative error used to judge an analytic gradient."""
import numpy as np


def rel_error(x, y):
    """Return max |x - y| / max(1e-8, |x| + |y|), elementwise; 0 means identical.

    With float64 and centred differences a correct gradient gives about 1e-8 or less;
    a wrong one gives 1e-2 or more.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ValueError(f"Invalid value received for arguments `x` and `y`. Expected arrays "
                         f"of the same shape. Received: shapes {x.shape} and {y.shape}")
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def numerical_gradient(f, x, dout=None, *, step=1e-5):
    """Centred-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    Args:
        f: function of no arguments that reads ``x`` (modified in place and restored)
            and returns a scalar or an array.
        x: float64 array to perturb.
        dout: upstream gradient, same shape as ``f()``; None means f returns a scalar.
        step: the finite-difference step h; the error of centred differences is O(h²).

    Returns:
        Array of ``x``'s shape: (f(x + h e_i) - f(x - h e_i)) · dout / 2h for each entry i.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("Invalid value received for argument `x`. Expected a float64 NumPy "
                        "array (float32 is too coarse for a gradient check). "
                        f"Received: x of type {type(x).__name__}"
                        f"{' and dtype ' + str(x.dtype) if isinstance(x, np.ndarray) else ''}")
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + step
        plus = np.array(f(), dtype=np.float64, copy=True)
        x[index] = original - step
        minus = np.array(f(), dtype=np.float64, copy=True)
        x[index] = original
        difference = plus - minus if dout is None else (plus - minus) * dout
        grad[index] = np.sum(difference) / (2 * step)
    return grad
