"""Inference with DropConnect: the moments of a masked unit, and the uncertainty of averaged masks.

At test time a DropConnect network has to replace the random masks by something. Three rules
(``DropConnectDense(inference=...)``, notebook 06):

- ``"mean"``: use keep_prob·W, the expected weights (the Dropout-style rule);
- ``"gaussian"``: the paper's Algorithm 2 (Wan et al., 2013, section 3.2): the masked
  pre-activation u = (M⊙W)ᵀv is approximately Gaussian with the moments of
  :func:`gaussian_moments`; draw samples of u, pass them through the activation, average;
- ``"mc"``: draw masks as in training and average the outputs (Monte Carlo).

This module holds the maths those rules and notebook 06 share: the moments, the closed form
of E[relu(u)], the uncertainty measures of an averaged prediction (entropy, mutual
information, expected calibration error). It imports without TensorFlow and holds no model
code: the tools that take a whole model (``mc_predict``, ``with_inference``) are in
``dcscratch.model_tools``, above both this module and the layer that uses it.
"""
import numpy as np

from dcscratch.validation import (_describe, _invalid, check_float_array, check_keep_prob,
                                  check_labels, check_positive_int, check_probabilities)


def gaussian_moments(x, W, keep_prob):
    """Mean and variance of the masked pre-activation ``x @ (M⊙W)`` over the mask M.

    Each term x_i M_ij W_ij is an independent Bernoulli(keep_prob)-scaled number, so
    E = keep_prob · (x W) and Var = keep_prob (1 − keep_prob) · (x⊙x)(W⊙W).
    No bias: ``DropConnectDense`` adds its bias unmasked, to the mean only. The paper masks
    the bias too (a column of W with input 1): there μ = keep_prob·(xW + b) and
    σ² = keep_prob(1 − keep_prob)·[(x⊙x)(W⊙W) + b⊙b].

    Args:
        x: inputs, ``(batch, in)`` (or ``(..., in)``).
        W: weights, ``(in, out)``.
        keep_prob: probability that a connection is kept, in (0, 1].

    Returns:
        ``(mean, variance)``, each ``(batch, out)``: NumPy arrays when ``x`` and ``W`` are
        NumPy arrays (or nested lists), otherwise tensors of the Keras backend (what
        ``DropConnectDense`` passes and gets back).
    """
    keep_prob = check_keep_prob(keep_prob)
    if _is_numpy(x) and _is_numpy(W):
        x, W = check_float_array(x, "x"), check_float_array(W, "W")
        array_ops = np
    else:
        from keras import ops as array_ops
    if len(W.shape) != 2:
        raise ValueError(_invalid("W", "a 2-D array of shape (in, out)", _describe(W)))
    if len(x.shape) < 1 or (x.shape[-1] is not None and W.shape[0] is not None
                            and x.shape[-1] != W.shape[0]):
        raise ValueError(_invalid("x", f"an array whose last dimension is W's first ({W.shape[0]})",
                                  _describe(x)))
    # One formula for both: NumPy and keras.ops spell matmul and square alike.
    mean = keep_prob * array_ops.matmul(x, W)
    variance = keep_prob * (1.0 - keep_prob) * array_ops.matmul(array_ops.square(x),
                                                                array_ops.square(W))
    return mean, variance


def relu_gaussian_mean(mean, variance):
    """E[relu(u)] for u ~ N(mean, variance), elementwise: μΦ(μ/σ) + σφ(μ/σ).

    Where the variance is 0, u is the constant ``mean`` and the result is exactly
    ``max(mean, 0)``.

    Args:
        mean: array of any shape.
        variance: array of the same shape, every entry finite and ≥ 0.

    Returns:
        A float array of that shape.
    """
    from scipy.special import ndtr  # Φ, the standard normal distribution function

    mean, variance = check_float_array(mean, "mean"), check_float_array(variance, "variance")
    if variance.shape != mean.shape:
        raise ValueError(_invalid("variance", f"an array of mean's shape {mean.shape}",
                                  _describe(variance)))
    if not np.all(np.isfinite(variance)) or np.any(variance < 0):
        raise ValueError(_invalid("variance", "finite values ≥ 0", _describe(variance)))
    sigma = np.sqrt(variance)
    random = sigma > 0
    z = np.divide(mean, sigma, out=np.zeros_like(mean), where=random)
    density = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    return np.where(random, mean * ndtr(z) + sigma * density, np.maximum(mean, 0))


def predictive_entropy(probs):
    """Entropy −Σ_k p_k log p_k of each row of ``probs``, in nats (0 log 0 = 0).

    Args:
        probs: ``(batch, classes)`` probabilities, rows summing to 1.

    Returns:
        ``(batch,)``: between 0 (one-hot) and log(classes) (uniform).
    """
    probs = check_probabilities(probs)
    terms = probs * np.log(np.where(probs > 0, probs, 1.0))
    return -terms.sum(axis=1)


def calibration_bins(probs, labels, bins=15):
    """Per-bin confidence, accuracy and count for a reliability diagram (Guo et al., 2017).

    Each prediction's confidence is its largest probability; predictions fall into ``bins``
    equal-width bins of (0, 1] (bin b holds confidences in (b/bins, (b+1)/bins]).

    Returns:
        dict of ``edges`` (bins + 1,), and per bin ``confidence`` (mean confidence),
        ``accuracy`` (share correct; NaN where the bin is empty) and ``count``.
    """
    probs = check_probabilities(probs)
    labels = check_labels(labels, len(probs), probs.shape[1])
    bins = check_positive_int(bins, "bins")
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.searchsorted(edges[1:-1], confidence, side="left")  # (lower, upper]
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):  # empty bins: 0 / 0 is NaN, on purpose
        mean_confidence = np.bincount(which, confidence, minlength=bins) / count
        accuracy = np.bincount(which, correct, minlength=bins) / count
    return {"edges": edges, "confidence": mean_confidence, "accuracy": accuracy, "count": count}


def expected_calibration_error(probs, labels, bins=15):
    """ECE = Σ_b (n_b / n) · |accuracy_b − confidence_b| over equal-width confidence bins.

    Args:
        probs: ``(batch, classes)`` predicted probabilities, rows summing to 1.
        labels: ``(batch,)`` integer classes in [0, classes).
        bins: positive integer, number of equal-width bins of (0, 1].

    Returns:
        A float in [0, 1]: 0 when, in every bin, the share of correct predictions equals
        their mean confidence.
    """
    table = calibration_bins(probs, labels, bins)
    used = table["count"] > 0
    gaps = np.abs(table["accuracy"][used] - table["confidence"][used])
    return float(np.sum(table["count"][used] / table["count"].sum() * gaps))


def _is_numpy(value):
    return isinstance(value, (np.ndarray, list, tuple))
