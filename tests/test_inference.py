"""dcscratch.inference: moments against enumeration, closed forms against integration,
uncertainty measures against their bounds, and every bad input by name."""
import itertools
import math

import matplotlib
import numpy as np
import pytest
from scipy import integrate

import keras

from dcscratch import inference, keras_layer
from dcscratch.inference import (calibration_bins, expected_calibration_error, gaussian_moments,
                                 predictive_entropy, relu_gaussian_mean)
from dcscratch.plotting import plot_reliability_diagram
from dcscratch.tf_common import tf

matplotlib.use("Agg")


# ---------------------------------------------------------------- gaussian_moments
@pytest.mark.parametrize("keep_prob", [0.3, 0.5, 0.9, 1.0])
def test_gaussian_moments_equal_the_exact_moments_over_every_mask(keep_prob):
    rng = np.random.default_rng(0)
    x, W = rng.normal(size=(3, 3)), rng.normal(size=(3, 2))
    outputs, weights = [], []
    for bits in itertools.product((0.0, 1.0), repeat=W.size):  # all 2⁶ = 64 masks
        mask = np.reshape(bits, W.shape)
        kept = int(mask.sum())
        outputs.append(x @ (mask * W))
        weights.append(keep_prob**kept * (1 - keep_prob)**(W.size - kept))
    outputs, weights = np.array(outputs), np.array(weights)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    exact_mean = np.einsum("m,mno->no", weights, outputs)
    exact_variance = np.einsum("m,mno->no", weights, (outputs - exact_mean) ** 2)
    mean, variance = gaussian_moments(x, W, keep_prob)
    np.testing.assert_allclose(mean, exact_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(variance, exact_variance, rtol=1e-10, atol=1e-12)


def test_gaussian_moments_give_numpy_for_numpy_and_tensors_for_tensors():
    rng = np.random.default_rng(1)
    x, W = rng.normal(size=(4, 5)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    numpy_moments = gaussian_moments(x, W, 0.7)
    tensor_moments = gaussian_moments(tf.constant(x), tf.constant(W), 0.7)
    for array, tensor in zip(numpy_moments, tensor_moments):
        assert isinstance(array, np.ndarray) and array.dtype == np.float32
        assert tf.is_tensor(tensor)
        np.testing.assert_allclose(array, tensor.numpy(), rtol=1e-6, atol=1e-6)


def test_the_layer_calls_the_package_moments_and_keeps_no_twin():
    # Training (mask="gaussian") and the Gaussian inference rule share one code path:
    # fast_per_example.gaussian_matmul, which takes its moments from the inference module.
    from dcscratch import fast_per_example

    assert fast_per_example.gaussian_moments is inference.gaussian_moments
    assert "gaussian_moments" not in vars(keras_layer)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    layer = keras_layer.DropConnectDense(2, 0.7, inference="gaussian", inference_samples=6,
                                         seed=3, use_bias=False)
    layer.build((None, 4))
    seed = model_tools_seed_of(layer)
    samples = fast_per_example.gaussian_matmul(x, layer.kernel, 0.7, seed, samples=6)
    np.testing.assert_allclose(layer(x).numpy(), samples.numpy().mean(axis=0), rtol=1e-5,
                               atol=1e-6)


def model_tools_seed_of(layer):
    """The seed the layer's next draw takes, without advancing its stream."""
    from dcscratch.model_tools import restore_seed_states, seed_states

    model = keras.Sequential([layer])
    states = seed_states(model)
    seed = layer.next_seed()
    restore_seed_states(model, states)
    return seed


# ---------------------------------------------------------------- relu_gaussian_mean
@pytest.mark.parametrize("mean, variance", [(0.0, 1.0), (1.3, 0.2), (-2.0, 0.5), (-6.0, 1.0),
                                            (4.0, 9.0), (0.01, 1e-4)])
def test_relu_gaussian_mean_equals_numerical_integration(mean, variance):
    sigma = math.sqrt(variance)

    def integrand(u):  # relu(u) times the normal density
        return u * math.exp(-0.5 * ((u - mean) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))

    # Beyond 12 σ the normal density is below 1e-31: the finite range loses nothing visible.
    low, high = max(0.0, mean - 12 * sigma), max(0.0, mean + 12 * sigma)
    expected, error_estimate = integrate.quad(integrand, low, high, epsabs=1e-14, limit=200)
    assert error_estimate < 1e-8
    closed_form = relu_gaussian_mean(np.array([mean]), np.array([variance]))[0]
    assert closed_form == pytest.approx(expected, rel=1e-8, abs=1e-8)


def test_relu_gaussian_mean_with_zero_variance_is_exactly_relu():
    mean = np.array([-2.5, -1e-9, 0.0, 1e-9, 3.25])
    np.testing.assert_array_equal(relu_gaussian_mean(mean, np.zeros(5)), np.maximum(mean, 0))


def test_relu_gaussian_mean_is_above_relu_of_the_mean():
    # Jensen: relu is convex, so E[relu(u)] ≥ relu(E[u]), strictly where σ > 0.
    mean = np.linspace(-3, 3, 61)
    assert np.all(relu_gaussian_mean(mean, np.ones(61)) > np.maximum(mean, 0))


# ---------------------------------------------------------------- entropy
@pytest.mark.parametrize("classes", [2, 10, 37])
def test_entropy_is_log_classes_for_uniform_rows_and_zero_for_one_hot_rows(classes):
    uniform = np.full((3, classes), 1 / classes)
    np.testing.assert_allclose(predictive_entropy(uniform), math.log(classes), rtol=1e-12)
    np.testing.assert_array_equal(predictive_entropy(np.eye(classes)), np.zeros(classes))


def test_entropy_of_any_distribution_lies_between_zero_and_log_classes():
    probs = np.random.default_rng(2).dirichlet(np.full(10, 0.3), size=1000)
    entropy = predictive_entropy(probs)
    assert np.all(entropy > 0) and np.all(entropy < math.log(10))


# ---------------------------------------------------------------- calibration
def synthetic_predictions(n, classes, rng, accuracy_shift=0.0):
    """Predictions whose top probability c ~ U(0.4, 1) is right with probability c − shift."""
    confidence = rng.uniform(0.4, 1.0, n)
    predicted = rng.integers(0, classes, n)
    probs = np.tile(((1 - confidence) / (classes - 1))[:, None], (1, classes))
    probs[np.arange(n), predicted] = confidence
    correct = rng.random(n) < confidence - accuracy_shift
    wrong = (predicted + rng.integers(1, classes, n)) % classes  # any other class
    return probs, np.where(correct, predicted, wrong)


def ece_noise_bound(n, bins, sigmas=5.0):
    """A bound on the ECE of calibrated predictions that holds except with tiny probability.

    In a bin of n_b predictions the share correct minus the mean confidence has mean 0 and
    standard deviation sqrt(Σ c_i(1−c_i)) / n_b ≤ 0.5 / sqrt(n_b). With every bin within
    `sigmas` of them, ECE ≤ Σ_b (n_b / n) · sigmas · 0.5 / sqrt(n_b) = sigmas · 0.5 · Σ_b sqrt(n_b) / n
    ≤ sigmas · 0.5 · sqrt(bins / n) (Cauchy–Schwarz).
    """
    return sigmas * 0.5 * math.sqrt(bins / n)


def test_ece_is_near_zero_for_calibrated_predictions():
    n, bins = 20_000, 15
    probs, labels = synthetic_predictions(n, 10, np.random.default_rng(3))
    assert expected_calibration_error(probs, labels, bins) < ece_noise_bound(n, bins)


def test_ece_measures_the_gap_of_over_confident_predictions():
    n, bins, shift = 20_000, 15, 0.3
    probs, labels = synthetic_predictions(n, 10, np.random.default_rng(4), accuracy_shift=shift)
    # Every bin is right 0.3 less often than its confidence says, so the ECE is 0.3 ± noise.
    assert abs(expected_calibration_error(probs, labels, bins) - shift) < ece_noise_bound(n, bins)


def test_ece_of_a_small_case_computed_by_hand():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.45, 0.55]])
    labels = np.array([0, 1, 1, 1])
    # bins=2: (0, 0.5] is empty; (0.5, 1] holds all four, confidence 0.7375, accuracy 0.75.
    assert expected_calibration_error(probs, labels, bins=2) == pytest.approx(0.0125)
    # bins=10: 0.9 → right; 0.8 → wrong; 0.7 → right; 0.55 → right, each alone in its bin.
    expected = (0.1 + 0.8 + 0.3 + 0.45) / 4
    assert expected_calibration_error(probs, labels, bins=10) == pytest.approx(expected)


def test_calibration_bins_are_closed_on_the_right_and_count_every_prediction():
    probs = np.array([[0.5, 0.5], [0.25, 0.75], [1.0, 0.0], [0.75, 0.25]])
    table = calibration_bins(probs, np.array([0, 0, 0, 1]), bins=4)
    np.testing.assert_array_equal(table["edges"], [0, 0.25, 0.5, 0.75, 1.0])
    np.testing.assert_array_equal(table["count"], [0, 1, 2, 1])  # 0.5 | 0.75, 0.75 | 1.0
    np.testing.assert_array_equal(table["accuracy"][1:], [1.0, 0.0, 1.0])
    assert np.isnan(table["accuracy"][0]) and np.isnan(table["confidence"][0])


def test_reliability_diagram_draws_one_panel_per_rule():
    probs, labels = synthetic_predictions(500, 10, np.random.default_rng(5))
    fig = plot_reliability_diagram({"a": probs, "b": probs}, labels, bins=10)
    assert len(fig.axes) == 2
    ece = expected_calibration_error(probs, labels, bins=10)
    assert fig.axes[0].get_title() == f"a: ECE {ece:.3f}"


# ---------------------------------------------------------------- bad input, by name
GOOD_PROBS = np.array([[0.25, 0.75], [0.5, 0.5]])


@pytest.mark.parametrize("call, error, argument", [
    (lambda: gaussian_moments(np.ones((2, 3)), np.ones((3, 2)), 0.0), ValueError, "keep_prob"),
    (lambda: gaussian_moments(np.ones((2, 3)), np.ones((3, 2)), 1.5), ValueError, "keep_prob"),
    (lambda: gaussian_moments(np.ones((2, 3)), np.ones((3, 2)), math.nan), ValueError, "keep_prob"),
    (lambda: gaussian_moments(np.ones((2, 3)), np.ones((3, 2)), "0.5"), TypeError, "keep_prob"),
    (lambda: gaussian_moments(np.ones((2, 4)), np.ones((3, 2)), 0.5), ValueError, "x"),
    (lambda: gaussian_moments(tf.ones((2, 4)), tf.ones((3, 2)), 0.5), ValueError, "x"),
    (lambda: gaussian_moments(np.ones((2, 3)), np.ones(3), 0.5), ValueError, "W"),
    (lambda: gaussian_moments(np.ones((2, 3), int), np.ones((3, 2)), 0.5), TypeError, "x"),
    (lambda: gaussian_moments(np.ones((2, 3)), [[1.0, 2.0], [3.0]], 0.5), ValueError, "W"),
    (lambda: relu_gaussian_mean(np.zeros(3), -np.ones(3)), ValueError, "variance"),
    (lambda: relu_gaussian_mean(np.zeros(3), np.array([1.0, np.nan, 1.0])), ValueError, "variance"),
    (lambda: relu_gaussian_mean(np.zeros(3), np.ones(4)), ValueError, "variance"),
    (lambda: relu_gaussian_mean(np.zeros(3, int), np.ones(3)), TypeError, "mean"),
    (lambda: predictive_entropy(np.array([0.5, 0.5])), ValueError, "probs"),
    (lambda: predictive_entropy(np.array([[0.5, 0.6]])), ValueError, "probs"),
    (lambda: predictive_entropy(np.array([[1.5, -0.5]])), ValueError, "probs"),
    (lambda: predictive_entropy(np.array([[1, 0]])), TypeError, "probs"),
    (lambda: expected_calibration_error(GOOD_PROBS, np.array([0.0, 1.0])), TypeError, "labels"),
    (lambda: expected_calibration_error(GOOD_PROBS, np.array([0, 2])), ValueError, "labels"),
    (lambda: expected_calibration_error(GOOD_PROBS, np.array([0, -1])), ValueError, "labels"),
    (lambda: expected_calibration_error(GOOD_PROBS, np.array([0, 1, 1])), ValueError, "labels"),
    (lambda: expected_calibration_error(GOOD_PROBS, np.array([0, 1]), bins=0), ValueError, "bins"),
    (lambda: expected_calibration_error(GOOD_PROBS, np.array([0, 1]), bins=2.5), TypeError, "bins"),
    (lambda: expected_calibration_error(GOOD_PROBS * 2, np.array([0, 1])), ValueError, "probs"),
])
def test_bad_input_is_rejected_naming_the_argument(call, error, argument):
    with pytest.raises(error, match=f"Invalid value received for argument `{argument}`"):
        call()
