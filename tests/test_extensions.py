"""ConcreteDropConnectDense and L0GateDense: learned gates that behave like Keras layers."""
import math

import keras
import numpy as np
import pytest

from dcscratch import ConcreteDropConnectDense, L0GateDense
from dcscratch.extensions import (STRETCH_HIGH, STRETCH_LOW, hard_concrete,
                                  hard_concrete_keep_prob, hard_concrete_test_gate,
                                  relaxed_bernoulli)
from dcscratch.tf_common import tf

from conftest import binomial_bound

LAYERS = [ConcreteDropConnectDense, L0GateDense]


def sigmoid(value):
    return 1.0 / (1.0 + math.exp(-value))


def synthetic_problem(seed, examples=256, features=12, classes=3):
    """Linearly separable-ish data: labels from a random linear map of Gaussian inputs."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(examples, features)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(features, classes)), axis=1)
    return x, y


def train(layer, x, y, *, steps, learning_rate=0.05):
    """A few Adam steps of cross-entropy plus the layer's own losses (its connection penalty)."""
    optimizer = keras.optimizers.Adam(learning_rate)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = cross_entropy(y, layer(x, training=True)) + sum(layer.losses)
        optimizer.apply_gradients(zip(tape.gradient(loss, layer.trainable_weights),
                                      layer.trainable_weights))
    return layer


# --- the samplers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("keep_prob", [0.1, 0.5, 0.8])
def test_relaxed_bernoulli_is_above_one_half_with_probability_keep_prob(keep_prob):
    uniform = tf.random.stateless_uniform((200_000,), seed=[1, 2], minval=1e-6, maxval=1 - 1e-6)
    samples = relaxed_bernoulli(math.log(keep_prob / (1 - keep_prob)), uniform, 0.1).numpy()
    assert samples.min() >= 0.0 and samples.max() <= 1.0  # float32 rounds the tails to 0 and 1
    assert abs((samples > 0.5).mean() - keep_prob) < binomial_bound(samples.size, keep_prob)


@pytest.mark.parametrize("gate_logit", [-2.0, 0.0, 1.5])
def test_hard_concrete_is_nonzero_with_the_probability_of_eq_12(gate_logit):
    temperature = 2 / 3
    uniform = tf.random.stateless_uniform((200_000,), seed=[3, 4], minval=1e-6, maxval=1 - 1e-6)
    gates = hard_concrete(tf.constant(gate_logit), uniform, temperature).numpy()
    assert gates.min() == 0.0 and gates.max() == 1.0  # mass on both ends, nothing outside
    expected = float(hard_concrete_keep_prob(tf.constant(gate_logit), temperature))
    assert expected == pytest.approx(
        sigmoid(gate_logit - temperature * math.log(-STRETCH_LOW / STRETCH_HIGH)))
    assert abs((gates > 0).mean() - expected) < binomial_bound(gates.size, expected)


def test_test_time_gate_is_the_clipped_stretched_sigmoid_of_eq_13():
    gate_logit = np.linspace(-6, 6, 25).astype(np.float32)
    expected = np.clip(1 / (1 + np.exp(-gate_logit)) * 1.2 - 0.1, 0, 1)
    np.testing.assert_allclose(hard_concrete_test_gate(gate_logit).numpy(), expected, atol=1e-6)


# --- gradients reach the logits ------------------------------------------------------------

@pytest.mark.parametrize("layer", [
    ConcreteDropConnectDense(5, learn_keep_prob="layer", seed=0),
    ConcreteDropConnectDense(5, learn_keep_prob="connection", seed=0),
    L0GateDense(5, seed=0)], ids=["layer", "connection", "l0"])
def test_gradients_with_respect_to_the_logits_are_finite_and_nonzero_in_training(layer):
    x = tf.random.stateless_normal((16, 8), seed=[5, 6])
    layer(x)  # build
    logits = layer.keep_logit if isinstance(layer, ConcreteDropConnectDense) else layer.gate_logit
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(layer(x, training=True) ** 2)  # no penalty: only the sample's path
    gradient = tape.gradient(loss, logits)
    assert gradient is not None
    assert np.all(np.isfinite(gradient.numpy())) and np.any(gradient.numpy() != 0)


@pytest.mark.parametrize("learn_keep_prob", ["layer", "connection"])
def test_larger_connection_penalty_keeps_fewer_connections_after_the_same_training(
        learn_keep_prob):
    kept = {0.0: [], 0.05: []}
    for seed in range(4):
        x, y = synthetic_problem(seed)
        for penalty in kept:
            keras.utils.set_random_seed(seed)
            layer = ConcreteDropConnectDense(3, learn_keep_prob=learn_keep_prob, seed=seed,
                                             connection_penalty=penalty)
            train(layer, x, y, steps=30, learning_rate=0.1)
            kept[penalty].append(float(layer.expected_kept_connections()) / (12 * 3))
    without, penalised = np.array(kept[0.0]), np.array(kept[0.05])
    # Rank test: if the penalty did nothing, all 4 penalised runs would fall below all 4
    # unpenalised ones with probability 1 / C(8, 4) = 1/70. Paired: 5 standard errors clear.
    assert penalised.max() < without.min(), (without, penalised)
    reductions = without - penalised
    assert reductions.mean() > 5 * reductions.std(ddof=1) / math.sqrt(len(reductions)), reductions


def test_penalty_added_to_the_loss_is_the_penalty_times_expected_kept_connections():
    for layer in (ConcreteDropConnectDense(4, connection_penalty=0.3, learn_keep_prob="connection"),
                  L0GateDense(4, connection_penalty=0.3)):
        layer(np.ones((2, 6), np.float32), training=True)
        assert len(layer.losses) == 1
        assert float(layer.losses[0]) == pytest.approx(
            0.3 * float(layer.expected_kept_connections()), rel=1e-6)
    unpenalised = ConcreteDropConnectDense(4)
    unpenalised(np.ones((2, 6), np.float32), training=True)
    assert unpenalised.losses == []


# --- inference ------------------------------------------------------------------------------------

def test_concrete_inference_is_the_mean_rule_with_the_learned_keep_prob():
    layer = ConcreteDropConnectDense(6, keep_prob=0.3, learn_keep_prob="connection", seed=1)
    x = np.random.default_rng(1).normal(size=(4, 5)).astype(np.float32)
    layer(x)
    keep_prob = layer.learned_keep_prob().numpy()
    np.testing.assert_allclose(keep_prob, 0.3, rtol=1e-6)
    expected = x @ (keep_prob * layer.kernel.numpy()) + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(layer(x, training=True).numpy(), layer(x, training=True).numpy())


def test_l0_gates_start_with_the_requested_keep_prob():
    layer = L0GateDense(7, keep_prob=0.8)
    layer.build((None, 5))
    assert float(layer.expected_kept_connections()) == pytest.approx(0.8 * 35, rel=1e-5)


def test_l0_inference_is_deterministic_in_0_1_with_exact_zeros_after_training_with_a_penalty():
    x, y = synthetic_problem(7)
    keras.utils.set_random_seed(7)
    layer = train(L0GateDense(3, connection_penalty=0.01, seed=7), x, y, steps=100)
    gates = layer.inference_mask().numpy()
    assert gates.min() >= 0.0 and gates.max() <= 1.0
    assert np.sum(gates == 0.0) > 0, gates  # connections that stay dropped
    first, second = layer(x).numpy(), layer(x, training=False).numpy()
    np.testing.assert_array_equal(first, second)
    expected = x @ (gates * layer.kernel.numpy()) + layer.bias.numpy()
    np.testing.assert_allclose(first, expected, rtol=1e-5, atol=1e-5)
    # The trained classifier still works with its deterministic gates.
    assert (first.argmax(axis=1) == y).mean() > 0.8
    training_gates = hard_concrete(layer.gate_logit, tf.random.stateless_uniform(
        gates.shape, seed=[7, 7], minval=1e-6, maxval=1 - 1e-6), layer.temperature).numpy()
    assert training_gates.min() >= 0.0 and training_gates.max() <= 1.0


# --- Keras behaviour ------------------------------------------------------------

@pytest.mark.parametrize("Layer, extra", [
    (ConcreteDropConnectDense, {"learn_keep_prob": "connection"}), (L0GateDense, {})])
def test_config_round_trip_rebuilds_the_same_layer(Layer, extra):
    layer = Layer(12, keep_prob=0.7, temperature=0.4, connection_penalty=0.02,
                  activation="relu", use_bias=False, seed=9, kernel_regularizer="l2",
                  name="gated", **extra)
    config = layer.get_config()
    clone = Layer.from_config(config)
    assert clone.get_config() == config
    for key in ("units", "keep_prob", "temperature", "connection_penalty", "seed", "use_bias",
                *extra):
        assert config[key] == getattr(layer, key)


@pytest.mark.parametrize("Layer, logit_name", [(ConcreteDropConnectDense, "keep_logit"),
                                               (L0GateDense, "gate_logit")])
def test_keras_file_round_trip_and_weights_by_name(tmp_path, Layer, logit_name):
    keras.utils.set_random_seed(10)
    model = keras.Sequential([keras.Input((10,)),
                              Layer(8, activation="relu", connection_penalty=1e-3, seed=10),
                              keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(10).normal(size=(32, 10)).astype(np.float32)
    model.fit(x, np.zeros((32, 3)), epochs=2, verbose=0)  # move the logits off their start
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    layer = loaded.layers[0]
    assert isinstance(layer, Layer)
    assert [w.path.split("/")[-1] for w in layer.trainable_weights] == ["kernel", "bias",
                                                                        logit_name]
    assert getattr(layer, logit_name) is layer.trainable_weights[2]
    for before, after in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


BAD_ARGUMENTS = [
    ({"units": 0}, ValueError, "units"), ({"units": 2.5}, TypeError, "units"),
    ({"keep_prob": 0.0}, ValueError, "keep_prob"), ({"keep_prob": 1.0}, ValueError, "keep_prob"),
    ({"keep_prob": 1.5}, ValueError, "keep_prob"),
    ({"keep_prob": math.nan}, ValueError, "keep_prob"),
    ({"keep_prob": "0.5"}, TypeError, "keep_prob"),
    ({"temperature": 0.0}, ValueError, "temperature"),
    ({"temperature": -1}, ValueError, "temperature"),
    ({"temperature": math.inf}, ValueError, "temperature"),
    ({"temperature": math.nan}, ValueError, "temperature"),
    ({"temperature": "hot"}, TypeError, "temperature"),
    ({"connection_penalty": -0.1}, ValueError, "connection_penalty"),
    ({"connection_penalty": math.nan}, ValueError, "connection_penalty"),
    ({"connection_penalty": math.inf}, ValueError, "connection_penalty"),
    ({"connection_penalty": None}, TypeError, "connection_penalty"),
    ({"connection_penalty": True}, TypeError, "connection_penalty"),
    ({"seed": -3}, ValueError, "seed"),
]


@pytest.mark.parametrize("Layer", LAYERS)
@pytest.mark.parametrize("kwargs, error, argument", BAD_ARGUMENTS)
def test_bad_constructor_arguments_are_rejected_keras_style(Layer, kwargs, error, argument):
    with pytest.raises(error, match=f"Invalid value received for argument `{argument}`"):
        Layer(**{"units": 4, **kwargs})


@pytest.mark.parametrize("value", ["unit", "weights", None])
def test_unknown_learn_keep_prob_is_rejected_keras_style(value):
    with pytest.raises(ValueError, match="Invalid value received for argument `learn_keep_prob`. "
                                         "Expected one of 'layer', 'connection'"):
        ConcreteDropConnectDense(4, learn_keep_prob=value)


@pytest.mark.parametrize("Layer", LAYERS)
def test_input_whose_last_dimension_does_not_match_is_rejected(Layer):
    layer = Layer(3)
    layer(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 5"):
        layer(np.ones((2, 6), np.float32))
