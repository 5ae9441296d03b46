"""DropConnectDense behaves like DropConnect and like a Keras layer."""
import json
import math
import subprocess
import sys

import keras
import numpy as np
import pytest

from dcscratch import DropConnectDense, numpy_layers
from dcscratch.inference import gaussian_moments, relu_gaussian_mean
from dcscratch.keras_layer import batch_mask, masked_matmul
from dcscratch.per_example import per_example_masks
from dcscratch.tf_common import tf

from conftest import binomial_bound


def ones_layer(units=40, keep_prob=0.5, **kwargs):
    """A built layer with W = 1 and b = 0: on an identity input its output is the mask."""
    layer = DropConnectDense(units, keep_prob, kernel_initializer="ones", use_bias=False, **kwargs)
    layer.build((None, 30))
    return layer


@pytest.mark.parametrize("mask, keep_prob", [
    (mask, keep_prob) for mask in ("batch", "example") for keep_prob in (0.05, 0.5, 0.95)
] + [("flipout", 0.5)])
def test_training_keeps_each_connection_with_probability_keep_prob(mask, keep_prob):
    layer = ones_layer(200, keep_prob, mask=mask, seed=1)
    masks = layer(np.eye(30, dtype=np.float32), training=True).numpy()  # row i = M[i, :]
    assert set(np.unique(masks)) <= {0.0, 1.0}
    assert abs(masks.mean() - keep_prob) < binomial_bound(masks.size, keep_prob)


def test_training_draws_a_new_mask_every_call_and_inference_is_the_mean():
    layer = DropConnectDense(16, 0.7, seed=0)
    x = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    first, second = layer(x, training=True).numpy(), layer(x, training=True).numpy()
    assert not np.allclose(first, second)
    expected = x @ (0.7 * layer.kernel.numpy()) + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), layer(x).numpy())


def test_batch_masks_are_shared_and_example_masks_differ_within_a_batch():
    identical = np.ones((16, 30), np.float32)
    shared = ones_layer(mask="batch", seed=2)(identical, training=True).numpy()
    own = ones_layer(mask="example", seed=2)(identical, training=True).numpy()
    assert np.all(shared == shared[0])
    assert len({row.tobytes() for row in own}) == 16


@pytest.mark.parametrize("mask", ["batch", "example", "flipout"])
def test_bias_is_never_masked_unlike_the_papers_w_with_its_bias_column(mask):
    # Wan et al. fold the bias into W (a column for a fixed input of 1), so their masks drop it;
    # DropConnectDense masks the kernel only. W = 1 on an identity input makes the output the
    # mask plus the bias: every entry is 0.25 (dropped connection) or 1.25 (kept), never 0 or 1.
    layer = DropConnectDense(40, 0.5, mask=mask, kernel_initializer="ones", seed=4,
                             bias_initializer=keras.initializers.Constant(0.25))
    x = tf.constant(np.eye(30, dtype=np.float32))
    with tf.GradientTape() as tape:
        out = layer(x, training=True)
        total = tf.reduce_sum(out)
    values = out.numpy()
    assert set(np.unique(values)) == {0.25, 1.25}
    assert abs((values == 1.25).mean() - 0.5) < binomial_bound(values.size, 0.5)
    # Every example's bias gradient is 1 per unit, however many connections were dropped.
    np.testing.assert_array_equal(tape.gradient(total, layer.bias).numpy(), np.full(40, 30.0))


def test_fit_evaluate_and_predict_honour_the_training_flag():
    layer = DropConnectDense(8, 0.5, seed=3, kernel_initializer="ones", bias_initializer="zeros")
    model = keras.Sequential([keras.Input((5,)), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")  # lr 0: weights stay
    x, y = np.ones((32, 5), np.float32), np.zeros((32, 8), np.float32)
    # Inference: every output is keep_prob · 5 = 2.5, so the loss is exactly 2.5² = 6.25.
    np.testing.assert_allclose(model.predict(x, verbose=0), 2.5, rtol=1e-6)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(6.25, rel=1e-6)
    # Training: outputs are Binomial(5, 0.5) counts, whose mean square is 5·0.25 + 2.5² = 7.5.
    loss = model.fit(x, y, epochs=1, batch_size=32, verbose=0).history["loss"][0]
    assert loss != pytest.approx(6.25, rel=1e-3)


def test_gaussian_moments_match_monte_carlo():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 40)).astype(np.float32)
    W = rng.normal(size=(40, 5)).astype(np.float32)
    keep_prob, draws = 0.6, 20_000
    mean, variance = gaussian_moments(x, W, keep_prob)
    masks = (rng.random((draws, 40, 5)) < keep_prob).astype(np.float32)
    samples = np.einsum("ni,sio->sno", x, masks * W)
    standard_error = np.sqrt(variance / draws)
    assert np.all(np.abs(samples.mean(axis=0) - mean) < 5 * standard_error)
    # Sample variance: relative standard error ≈ sqrt(2 / draws) = 1 %; allow 5 of them.
    assert np.all(np.abs(samples.var(axis=0) / variance - 1) < 5 * math.sqrt(2 / draws))


def test_gaussian_inference_averages_the_activation_over_the_moment_matched_gaussian():
    samples = 20_000
    layer = DropConnectDense(6, 0.5, activation="relu", inference="gaussian",
                             inference_samples=samples, seed=5, bias_initializer="zeros")
    x = np.random.default_rng(5).normal(size=(4, 50)).astype(np.float32)
    output = layer(x).numpy()
    mean, variance = gaussian_moments(x, layer.kernel.numpy(), 0.5)
    expected = relu_gaussian_mean(mean, variance)
    # Monte Carlo over `samples` draws: standard error ≤ σ / sqrt(samples).
    assert np.all(np.abs(output - expected) < 5 * np.sqrt(variance / samples))


def test_mc_inference_averages_sampled_masks():
    samples = 4_000
    layer = DropConnectDense(6, 0.5, inference="mc", inference_samples=samples, seed=6)
    x = np.random.default_rng(6).normal(size=(4, 50)).astype(np.float32)
    output = layer(x).numpy()
    mean, variance = gaussian_moments(x, layer.kernel.numpy(), 0.5)
    # Linear activation: the average of masked outputs estimates the mean, keep_prob·xW + b.
    difference = output - (mean + layer.bias.numpy())
    assert np.all(np.abs(difference) < 5 * np.sqrt(variance / samples))


def test_keep_prob_one_is_a_dense_layer_in_training_and_inference():
    layer = DropConnectDense(7, 1.0, inference="gaussian", activation="tanh")
    x = np.random.default_rng(7).normal(size=(3, 4)).astype(np.float32)
    layer(x)  # build
    dense = np.tanh(x @ layer.kernel.numpy() + layer.bias.numpy())
    np.testing.assert_allclose(layer(x, training=True).numpy(), dense, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer(x).numpy(), dense, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mask", ["batch", "example"])
def test_gradients_equal_the_numpy_layer_for_the_same_mask(mask):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(6, 5))
    W = rng.normal(size=(5, 4))
    dout = rng.normal(size=(6, 4))
    seed = tf.constant([8, 0], tf.int64)
    x_t, W_t = tf.constant(x), tf.Variable(W)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x_t)
        out = masked_matmul(x_t, W_t, 0.5, seed, mask=mask, chunk_size=4)
        objective = tf.reduce_sum(out * dout)
    if mask == "batch":
        M = batch_mask((5, 4), 0.5, seed, tf.float64).numpy()
    else:
        M = per_example_masks(6, seed, 5, 4, 0.5, tf.float64).numpy()
    expected_out, cache = numpy_layers.dropconnect_forward(x, W, np.zeros(4), 0.5, mask=mask,
                                                           weight_mask=M)
    dx, dW, _ = numpy_layers.dropconnect_backward(dout, cache)
    np.testing.assert_allclose(out.numpy(), expected_out, rtol=1e-10)
    np.testing.assert_allclose(tape.gradient(objective, W_t).numpy(), dW, rtol=1e-10)
    np.testing.assert_allclose(tape.gradient(objective, x_t).numpy(), dx, rtol=1e-10)


@pytest.mark.parametrize("mask, keep_prob", [("example", 0.8), ("flipout", 0.5),
                                             ("gaussian", 0.8)])
def test_config_round_trip_rebuilds_the_same_layer(mask, keep_prob):
    layer = DropConnectDense(12, keep_prob, activation="relu", use_bias=False, mask=mask,
                             inference="mc", inference_samples=7, seed=9, chunk_size=3,
                             kernel_regularizer="l2", name="dc")
    config = layer.get_config()
    clone = DropConnectDense.from_config(config)
    assert clone.get_config() == config
    for key in ("units", "keep_prob", "mask", "inference", "inference_samples", "seed",
                "chunk_size", "use_bias"):
        assert config[key] == getattr(layer, key)


@pytest.mark.parametrize("inference, mask", [("mean", "batch"), ("gaussian", "batch"),
                                             ("mc", "batch"), ("mc", "flipout"),
                                             ("mc", "gaussian")])
def test_keras_file_round_trip_gives_identical_inference(tmp_path, inference, mask):
    keep_prob = 0.5 if mask == "flipout" else 0.6
    model = keras.Sequential([keras.Input((10,)),
                              DropConnectDense(8, keep_prob, activation="relu", mask=mask,
                                               inference=inference,
                                               inference_samples=16, seed=10),
                              keras.layers.Dense(3)])
    x = np.random.default_rng(10).normal(size=(5, 10)).astype(np.float32)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(loaded.layers[0], DropConnectDense)
    for before, after in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_weights_live_at_kernel_and_bias():
    layer = DropConnectDense(6, 0.5)
    layer.build((None, 4))
    assert tuple(layer.kernel.shape) == (4, 6) and tuple(layer.bias.shape) == (6,)
    assert [w.path.split("/")[-1] for w in layer.trainable_weights] == ["kernel", "bias"]


@pytest.mark.parametrize("mask", ["batch", "flipout", "gaussian"])
def test_drop_in_replacement_for_dense_in_a_sequential_model_trains_with_fit(mask):
    from dcscratch.data import load_digits

    keras.utils.set_random_seed(0)
    data = load_digits(seed=0)
    model = keras.Sequential([keras.Input((64,)),
                              DropConnectDense(64, 0.5, activation="relu", mask=mask, seed=0),
                              keras.layers.Dense(10)])
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(data.x_train, data.y_train, epochs=15, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    assert model.evaluate(data.x_test, data.y_test, verbose=0)[1] > 0.85


@pytest.mark.parametrize("mask", ["batch", "example"])
def test_works_in_tf_function_with_jit_compile(mask):
    layer = DropConnectDense(20, 0.5, mask=mask, seed=11, activation="relu")
    x = tf.random.stateless_normal((8, 12), seed=[1, 2])
    layer(x)  # build

    @tf.function(jit_compile=True)
    def train_step(inputs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(layer(inputs, training=True) ** 2)
        return loss, tape.gradient(loss, layer.trainable_weights)

    loss, grads = train_step(x)
    assert np.isfinite(loss.numpy()) and all(np.all(np.isfinite(g.numpy())) for g in grads)
    ones = ones_layer(200, 0.3, mask=mask, seed=12)
    masks = tf.function(lambda t: ones(t, training=True), jit_compile=True)(
        tf.eye(30)).numpy()
    assert abs(masks.mean() - 0.3) < binomial_bound(masks.size, 0.3)


@pytest.mark.parametrize("mask", ["flipout", "gaussian"])
def test_fast_modes_under_jit_compile_draw_the_modes_noise_with_finite_gradients(mask):
    x = tf.random.stateless_normal((4000, 12), seed=[1, 2])
    kernel = tf.Variable(tf.random.stateless_normal((12, 20), seed=[3, 4]))
    seed = tf.constant([5, 6], tf.int64)

    def step(inputs):
        with tf.GradientTape() as tape:
            out = masked_matmul(inputs, kernel, 0.5, seed, mask=mask)
            loss = tf.reduce_mean(tf.nn.relu(out) ** 2)
        return out, tape.gradient(loss, kernel)

    xla_out, xla_grad = tf.function(step, jit_compile=True)(x)
    assert np.all(np.isfinite(xla_grad.numpy()))
    if mask == "flipout":  # its signs are Philox integers, drawn alike with and without XLA
        eager_out, eager_grad = step(x)
        np.testing.assert_allclose(xla_out.numpy(), eager_out.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(xla_grad.numpy(), eager_grad.numpy(), rtol=1e-4, atol=1e-4)
    else:
        # XLA has its own normal sampler (other numbers from the same seed): check that the
        # standardised noise is N(0, 1) in mean and variance, within 5 standard errors.
        mean, variance = gaussian_moments(x, kernel, 0.5)
        standardised = ((xla_out - mean) / tf.sqrt(variance)).numpy().ravel()
        assert abs(standardised.mean()) < 5 / np.sqrt(standardised.size)
        assert abs(standardised.var() - 1) < 5 * np.sqrt(2 / standardised.size)


def test_compiled_model_with_jit_compile_trains():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)), DropConnectDense(8, 0.5, seed=1),
                              keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    model.fit(np.ones((16, 6)), np.ones((16, 1)), epochs=2, verbose=0)
    assert model.jit_compile is True


@pytest.mark.parametrize("mask", ["example", "flipout", "gaussian"])
def test_per_example_masks_are_independent_across_mirrored_replicas(root, mask):
    result = subprocess.run([sys.executable, str(root / "tests" / "mirrored_masks.py"), mask],
                            capture_output=True, text=True, timeout=300, cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2 and report["examples_per_replica"] == [4, 4]
    assert report["distinct_dropconnect_rows"] == 8          # every example its own mask
    assert not report["dropconnect_replicas_equal"]
    assert report["keras_dropout_replicas_equal"]            # the contrast the fold-in fixes
    # Gaussian noise has the kept count's mean and variance, so the same bound applies to it.
    assert abs(report["kept_fraction"] - 0.5) < binomial_bound(report["entries"], 0.5)


def test_per_example_results_do_not_depend_on_the_chunk_size_across_mirrored_replicas(root):
    # Two replicas of four examples each; chunks of 1, 3 (an uneven last chunk), 4 and 8 (more
    # than a replica's batch): every replica's outputs and kernel gradient agree bit for bit.
    result = subprocess.run([sys.executable, str(root / "tests" / "mirrored_masks.py"), "chunks",
                             "1", "3", "4", "8"], capture_output=True, text=True, timeout=300,
                            cwd=root)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    reference = report.pop("1")
    assert len(reference["outputs"]) == 2 and len(reference["outputs"][0]) == 4
    assert reference["outputs"][0] != reference["outputs"][1]  # each replica its own examples
    for size, run in report.items():
        assert run == reference, f"chunk_size {size} differs from chunk_size 1"


@pytest.mark.parametrize("kwargs, error, argument", [
    ({"units": 0}, ValueError, "units"), ({"units": 2.5}, TypeError, "units"),
    ({"keep_prob": 0.0}, ValueError, "keep_prob"), ({"keep_prob": 1.2}, ValueError, "keep_prob"),
    ({"keep_prob": math.nan}, ValueError, "keep_prob"), ({"keep_prob": "0.5"}, TypeError, "keep_prob"),
    ({"mask": "row"}, ValueError, "mask"),
    ({"mask": "flipout", "keep_prob": 0.3}, ValueError, "keep_prob"), ({"inference": "median"}, ValueError, "inference"),
    ({"inference_samples": 0}, ValueError, "inference_samples"),
    ({"seed": -3}, ValueError, "seed"), ({"chunk_size": 0}, ValueError, "chunk_size"),
])
def test_bad_constructor_arguments_are_rejected_keras_style(kwargs, error, argument):
    arguments = {"units": 4, **kwargs}
    with pytest.raises(error, match=f"Invalid value received for argument `{argument}`"):
        DropConnectDense(**arguments)


def test_input_whose_last_dimension_does_not_match_is_rejected():
    layer = DropConnectDense(3)
    layer(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 5"):
        layer(np.ones((2, 6), np.float32))


# ---------------------------------------------------------------- inverted DropConnect
@pytest.mark.parametrize("mask, keep_prob", [("batch", 0.3), ("example", 0.7), ("flipout", 0.5),
                                             ("gaussian", 0.8)])
def test_inverted_training_divides_the_unscaled_product_by_keep_prob(mask, keep_prob):
    # The same seed draws the same masks with and without inverted=True: the outputs differ
    # by the factor 1/keep_prob exactly (no bias, linear activation), and so do the kernels'
    # gradients.
    x = np.random.default_rng(3).normal(size=(6, 5)).astype(np.float32)
    outputs, gradients = [], []
    for inverted in (False, True):
        layer = DropConnectDense(4, keep_prob, use_bias=False, mask=mask, seed=7,
                                 inverted=inverted, chunk_size=4)
        layer.build((None, 5))
        layer.kernel.assign(np.linspace(-1, 1, 20, dtype=np.float32).reshape(5, 4))
        with tf.GradientTape() as tape:
            out = layer(x, training=True)
            objective = tf.reduce_sum(out * np.arange(24, dtype=np.float32).reshape(6, 4))
        outputs.append(out.numpy())
        gradients.append(tape.gradient(objective, layer.kernel).numpy())
    np.testing.assert_allclose(outputs[1], outputs[0] / keep_prob, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gradients[1], gradients[0] / keep_prob, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("inference", ["mean", "gaussian", "mc"])
def test_inverted_inference_rules_act_on_kernel_over_keep_prob(inference):
    # An inverted layer with kernel W infers exactly as an unscaled layer with kernel
    # W/keep_prob (same seed, same samples); the inverted mean rule is x @ W + b, Dense's.
    x = np.random.default_rng(4).normal(size=(7, 5)).astype(np.float32)
    kernel = np.random.default_rng(5).normal(size=(5, 3)).astype(np.float32)
    keep_prob = 0.6
    results = []
    for inverted, weights in ((True, kernel), (False, kernel / keep_prob)):
        layer = DropConnectDense(3, keep_prob, activation="relu", inference=inference,
                                 inference_samples=5, seed=2, inverted=inverted)
        layer.build((None, 5))
        layer.set_weights([weights, np.full(3, 0.1, np.float32)])
        results.append(layer(x).numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)
    if inference == "mean":
        np.testing.assert_allclose(results[0], np.maximum(x @ kernel + 0.1, 0), rtol=1e-5,
                                   atol=1e-6)


def test_inverted_layer_round_trips_through_its_config_and_a_keras_file(tmp_path):
    layer = DropConnectDense(3, 0.7, inverted=True, seed=1)
    assert layer.get_config()["inverted"] is True
    assert DropConnectDense.from_config(layer.get_config()).inverted is True
    model = keras.Sequential([keras.Input((4,)), layer])
    model.save(tmp_path / "inverted.keras")
    loaded = keras.saving.load_model(tmp_path / "inverted.keras")
    assert loaded.layers[0].inverted is True
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)


@pytest.mark.parametrize("value", [1, 0, "yes", None])
def test_inverted_must_be_a_bool(value):
    with pytest.raises(TypeError, match="Invalid value received for argument `inverted`. "
                                        "Expected True or False"):
        DropConnectDense(3, inverted=value)
