"""The NumPy layers: analytic gradients against centred differences, masks, inference rules."""
import numpy as np
import pytest

from dcscratch import numpy_layers as L
from dcscratch.gradcheck import numerical_gradient, rel_error
from dcscratch.mlp import MLP

from conftest import binomial_bound

# float64 centred differences of smooth functions agree with a correct gradient to ~1e-9;
# a wrong factor (a missing mask, a missing keep_prob) gives errors of order 1e-1.
GRADIENT_THRESHOLD = 1e-7


def small_problem(seed=0, N=5, D=6, H=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, D)), rng.normal(size=(D, H)), rng.normal(size=H), rng.normal(size=(N, H))


def check_gradients(forward, backward, arrays, dout):
    """Assert that every analytic gradient matches the numerical one."""
    out, cache = forward()
    analytic = backward(dout, cache)
    for array, grad in zip(arrays, analytic):
        numeric = numerical_gradient(lambda: forward()[0], array, dout)
        assert rel_error(numeric, grad) < GRADIENT_THRESHOLD


@pytest.mark.parametrize("mask", ["batch", "example"])
@pytest.mark.parametrize("scaling", ["paper", "inverted"])
@pytest.mark.parametrize("mask_bias", [False, True])
@pytest.mark.parametrize("training", [True, False])
def test_dropconnect_gradients_match_numerical(mask, scaling, mask_bias, training):
    x, W, b, dout = small_problem()

    def forward():
        # A fresh generator with the same seed: every call draws the same masks.
        return L.dropconnect_forward(x, W, b, 0.6, training=training, mask=mask,
                                     mask_bias=mask_bias, scaling=scaling,
                                     rng=np.random.default_rng(42))

    check_gradients(forward, L.dropconnect_backward, (x, W, b), dout)


def test_dense_gradients_match_numerical():
    x, W, b, dout = small_problem(1)
    check_gradients(lambda: L.dense_forward(x, W, b), L.dense_backward, (x, W, b), dout)


@pytest.mark.parametrize("scaling", ["paper", "inverted"])
def test_dropout_gradient_matches_numerical(scaling):
    x, _, _, _ = small_problem(2)
    dout = np.random.default_rng(3).normal(size=x.shape)

    def forward():
        return L.dropout_forward(x, 0.7, scaling=scaling, rng=np.random.default_rng(5))

    check_gradients(forward, lambda d, c: (L.dropout_backward(d, c),), (x,), dout)


def test_relu_and_softmax_cross_entropy_gradients_match_numerical():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 4))
    x[np.abs(x) < 0.01] = 0.5  # stay away from the kink at 0
    dout = rng.normal(size=x.shape)
    check_gradients(lambda: L.relu_forward(x), lambda d, c: (L.relu_backward(d, c),), (x,), dout)
    labels = np.array([0, 3, 1, 2, 3])
    _, dlogits = L.softmax_cross_entropy(x, labels)
    numeric = numerical_gradient(lambda: L.softmax_cross_entropy(x, labels)[0], x)
    assert rel_error(numeric, dlogits) < GRADIENT_THRESHOLD


@pytest.mark.parametrize("scaling", ["paper", "inverted"])
@pytest.mark.parametrize("mask", ["batch", "example"])
def test_whole_mlp_gradient_matches_numerical(mask, scaling):
    x, _, _, _ = small_problem(5, N=4, D=6)
    labels = np.array([0, 1, 2, 1])
    net = MLP((6, 5, 3), ("dropout", "dropconnect"), keep_prob=0.7, mask=mask, mask_bias=True,
              scaling=scaling)

    def loss():
        net.rng = np.random.default_rng(9)
        return net.loss_and_grads(x, labels)[0]

    net.rng = np.random.default_rng(9)
    _, grads = net.loss_and_grads(x, labels)
    for (W, b), (dW, db) in zip(net.params, grads):
        assert rel_error(numerical_gradient(loss, W), dW) < GRADIENT_THRESHOLD
        assert rel_error(numerical_gradient(loss, b), db) < GRADIENT_THRESHOLD


def test_a_wrong_gradient_is_caught_by_the_check():
    # The check must be able to fail: forget the mask in dW and the error is large.
    x, W, b, dout = small_problem()
    out, cache = L.dropconnect_forward(x, W, b, 0.5, rng=np.random.default_rng(42))
    wrong_dW = x.T @ dout
    numeric = numerical_gradient(
        lambda: L.dropconnect_forward(x, W, b, 0.5, rng=np.random.default_rng(42))[0], W, dout)
    assert rel_error(numeric, wrong_dW) > 1e-2


@pytest.mark.parametrize("mask, shape", [("batch", (64, 50)), ("example", (32, 64, 50))])
@pytest.mark.parametrize("keep_prob", [0.05, 0.5, 0.95])
def test_layer_masks_keep_the_stated_fraction(mask, shape, keep_prob):
    x, W = np.ones((32, 64)), np.ones((64, 50))
    _, cache = L.dropconnect_forward(x, W, np.zeros(50), keep_prob, mask=mask,
                                     rng=np.random.default_rng(0))
    M = cache[3]
    assert M.shape == shape
    assert abs(M.mean() - keep_prob) < binomial_bound(M.size, keep_prob)


def test_per_batch_mask_is_shared_and_per_example_masks_differ():
    x = np.ones((8, 30))
    W, b = np.ones((30, 20)), np.zeros(20)
    batch_out, _ = L.dropconnect_forward(x, W, b, 0.5, mask="batch", rng=np.random.default_rng(0))
    example_out, _ = L.dropconnect_forward(x, W, b, 0.5, mask="example", rng=np.random.default_rng(0))
    assert np.all(batch_out == batch_out[0])          # identical inputs, one mask: same rows
    assert len({row.tobytes() for row in example_out}) == 8  # one mask each: all rows differ


@pytest.mark.parametrize("scaling", ["paper", "inverted"])
@pytest.mark.parametrize("mask_bias", [False, True])
def test_inference_output_is_the_mean_of_training_outputs(scaling, mask_bias):
    x, W, b, _ = small_problem(6, N=3, D=20, H=4)
    keep_prob, draws = 0.6, 20_000
    rng = np.random.default_rng(1)
    samples = np.stack([L.dropconnect_forward(x, W, b, keep_prob, scaling=scaling,
                                              mask_bias=mask_bias, rng=rng)[0]
                        for _ in range(draws)])
    inference, _ = L.dropconnect_forward(x, W, b, keep_prob, training=False, scaling=scaling,
                                         mask_bias=mask_bias)
    # Each Monte Carlo mean has standard error std / sqrt(draws); allow 5 of them.
    standard_error = samples.std(axis=0) / np.sqrt(draws)
    assert np.all(np.abs(samples.mean(axis=0) - inference) < 5 * standard_error)


def test_mlp_with_dropconnect_learns_the_digits():
    from dcscratch.data import load_digits

    data = load_digits(seed=0)
    net = MLP((64, 256, 10), ("dense", "dropconnect"), keep_prob=0.5, seed=0)
    history = net.fit(data.x_train, data.y_train, x_val=data.x_val, labels_val=data.y_val,
                      epochs=20, batch_size=32, learning_rate=0.02)
    # Chance is 10 %; 300-odd test images put a guessing network below 20 % almost surely.
    assert net.accuracy(data.x_test, data.y_test) > 0.9
    assert history["train_loss"][-1] < history["train_loss"][0] / 4


@pytest.mark.parametrize("kwargs, error, argument", [
    ({"mask": "row"}, ValueError, "mask"), ({"scaling": "dropout"}, ValueError, "scaling"),
    ({"keep_prob": 0}, ValueError, "keep_prob"), ({"rng": 3}, TypeError, "rng")])
def test_layer_rejects_bad_arguments_by_name(kwargs, error, argument):
    x, W, b, _ = small_problem()
    arguments = {"keep_prob": 0.5, **kwargs}
    keep_prob = arguments.pop("keep_prob")
    with pytest.raises(error, match=f"`{argument}`"):
        L.dropconnect_forward(x, W, b, keep_prob, **arguments)


@pytest.mark.parametrize("kwargs, argument", [
    ({"sizes": (64, 0, 10)}, "sizes"), ({"kinds": ("dense",)}, "kinds"),
    ({"kinds": ("dense", "maxout")}, "kinds"), ({"keep_prob": 1.5}, "keep_prob")])
def test_mlp_rejects_bad_arguments_by_name(kwargs, argument):
    arguments = {"sizes": (64, 32, 10), "kinds": ("dense", "dropconnect"), **kwargs}
    with pytest.raises((ValueError, TypeError), match=f"`{argument}`"):
        MLP(arguments.pop("sizes"), arguments.pop("kinds"), **arguments)


def test_gradient_check_helpers_reject_bad_input():
    with pytest.raises(TypeError, match="`x`.*float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(3), np.zeros(4))
