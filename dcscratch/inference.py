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
information, expected calibration error), ``mc_predict`` (MC-DropConnect: average whole
stochastic forward passes) and ``with_inference`` (the same model under another rule).
The module imports without TensorFlow; the functions that take a model import Keras.
"""
from collections import namedtuple

import numpy as np

from dcscratch.validation import (_are_probability_rows, _describe, _invalid, check_choice,
                                  check_float_array, check_keep_prob, check_labels,
                                  check_positive_int, check_probabilities, check_seed)

MCPrediction = namedtuple("MCPrediction", ["probs", "entropy", "mutual_information"])
MCPrediction.__doc__ = """What :func:`mc_predict` returns (NumPy arrays).

probs: ``(batch, classes)`` mean predicted probabilities over the sampled passes.
entropy: ``(batch,)`` predictive entropy of ``probs``, in nats (total uncertainty).
mutual_information: ``(batch,)`` entropy of the mean minus the mean entropy of the passes,
    in nats: how much the passes disagree (the epistemic, "BALD" part).
"""


def gaussian_moments(x, W, keep_prob):
    """Mean and variance of the masked pre-activation ``x @ (M⊙W)`` over the mask M.

    Each term x_i M_ij W_ij is an independent Bernoulli(keep_prob)-scaled number, so
    E = keep_prob · (x W) and Var = keep_prob (1 − keep_prob) · (x⊙x)(W⊙W).

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


def mc_predict(model, x, *, samples, seed=None, from_logits=False):
    """Average ``samples`` stochastic forward passes of ``model`` (MC-DropConnect).

    Each pass calls ``model(x, training=True)``, so every DropConnect layer draws masks as in
    training (and any Dropout layer drops). Do not use it on models with layers whose training
    mode changes state, such as ``BatchNormalization``.

    Args:
        model: a Keras model whose outputs are probabilities (or logits, see ``from_logits``).
        x: inputs, a float array of the shape the model takes.
        samples: positive integer, the number of passes.
        seed: None for fresh randomness, or a non-negative integer: then every random layer's
            seed generator is set from it for these passes and restored afterwards, so the
            same seed gives the same result and leaves the model's own stream untouched.
        from_logits: whether the model outputs logits, to which a softmax is applied.

    Returns:
        :class:`MCPrediction` of ``probs`` ``(batch, classes)``, ``entropy`` and
        ``mutual_information`` ``(batch,)``.
    """
    import keras

    if _is_numpy(x):
        x = check_float_array(x, "x")
    samples = check_positive_int(samples, "samples")
    seed = check_seed(seed)
    generators = [v for v in model.variables if v.name == "seed_generator_state"]
    saved = [v.numpy() for v in generators]
    if seed is not None:
        states = np.random.SeedSequence(seed).generate_state(len(generators))
        for generator, state in zip(generators, states):
            generator.assign(np.array([state % 2**31, 0], dtype=generator.dtype))
    try:
        passes = []
        for _ in range(samples):
            output = model(x, training=True)
            if from_logits:
                output = keras.ops.softmax(output, axis=-1)
            output = np.asarray(output, dtype=np.float64)
            if output.ndim != 2 or not _are_probability_rows(output):
                raise ValueError(_invalid(
                    "model", "a model whose outputs are rows of probabilities (pass "
                    "from_logits=True for a model that outputs logits)", model.name))
            passes.append(output)
    finally:
        if seed is not None:
            for generator, state in zip(generators, saved):
                generator.assign(state)
    probs = np.mean(passes, axis=0)
    entropy = predictive_entropy(probs)
    mean_pass_entropy = np.mean([predictive_entropy(p) for p in passes], axis=0)
    return MCPrediction(probs, entropy, entropy - mean_pass_entropy)


def with_inference(model, inference, *, samples=64):
    """A copy of ``model`` (same weights) whose ``DropConnectDense`` layers use ``inference``.

    Args:
        model: a Keras model (Sequential or functional) containing DropConnectDense layers.
        inference: ``"mean"``, ``"gaussian"`` or ``"mc"``.
        samples: the layers' ``inference_samples``.
    """
    import keras

    from dcscratch.keras_layer import INFERENCE_MODES, DropConnectDense

    inference = check_choice(inference, INFERENCE_MODES, "inference")
    samples = check_positive_int(samples, "samples")

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, DropConnectDense):
            config.update(inference=inference, inference_samples=samples)
        return layer.__class__.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def _is_numpy(value):
    return isinstance(value, (np.ndarray, list, tuple))
