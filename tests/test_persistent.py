"""PersistentDropConnectDense: connections that drop and stay dropped."""
import math

import keras
import numpy as np
import pytest

from dcscratch import PersistentDropConnectDense
from dcscratch.persistent import sparsity_schedule
from dcscratch.tf_common import tf

from test_extensions import synthetic_problem

CROSS_ENTROPY = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def training_steps(layer, x, y, steps, *, learning_rate=0.05, after_step=None):
    """Adam on one linear layer; ``after_step(step)`` sees the layer after each update."""
    optimizer = keras.optimizers.Adam(learning_rate)
    for step in range(steps):
        with tf.GradientTape() as tape:
            loss = CROSS_ENTROPY(y, layer(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, layer.trainable_weights),
                                      layer.trainable_weights))
        if after_step is not None:
            after_step(step)
    return layer


def test_schedule_is_zero_before_start_cubic_between_and_the_target_from_the_end():
    assert sparsity_schedule(0, 0.8, 10, 50) == 0.0
    assert float(sparsity_schedule(30, 0.8, 10, 50)) == pytest.approx(0.8 * (1 - 0.5 ** 3))
    assert float(sparsity_schedule(50, 0.8, 10, 50)) == pytest.approx(0.8)
    assert float(sparsity_schedule(500, 0.8, 10, 50)) == pytest.approx(0.8)
    values = [float(sparsity_schedule(step, 0.8, 10, 50)) for step in range(60)]
    assert all(a <= b for a, b in zip(values, values[1:]))


@pytest.mark.parametrize("score", ["taylor", "magnitude"])
def test_alive_mask_only_loses_ones_and_reaches_the_target_sparsity_at_prune_end(score):
    x, y = synthetic_problem(0)
    keras.utils.set_random_seed(0)
    layer = PersistentDropConnectDense(3, 0.7, target_sparsity=0.75, score=score,
                                       prune_start=2, prune_end=14, prune_every=3, seed=0)
    layer(x)  # build
    size = layer.alive_mask.shape[0] * layer.alive_mask.shape[1]
    masks = [layer.alive_mask.numpy().copy()]
    training_steps(layer, x, y, 20, after_step=lambda step: masks.append(
        layer.alive_mask.numpy().copy()))
    for before, after in zip(masks, masks[1:]):
        assert np.all(after <= before), "a dead connection came back"
        assert set(np.unique(after)) <= {0.0, 1.0}
    dead = [int(size - mask.sum()) for mask in masks[1:]]  # after step 0, 1, …
    # Pruning happens at the start of steps 2, 5, 8, 11 and 14, to the schedule's share.
    for step in (2, 5, 8, 11, 14):
        assert dead[step] == round(float(sparsity_schedule(step, 0.75, 2, 14)) * size)
    assert dead[1] == 0 and dead[3] == dead[2] and dead[19] == dead[14] == round(0.75 * size)
    assert int(layer.training_step.numpy()) == 20


def test_dead_connections_are_exactly_zero_get_no_gradient_and_no_update_from_adam():
    x, y = synthetic_problem(1)
    keras.utils.set_random_seed(1)
    layer = PersistentDropConnectDense(3, 0.8, target_sparsity=0.5, prune_start=5, prune_end=6,
                                       prune_every=1, seed=1)
    # Adam's momentum from the first five steps would move every weight after pruning, were the
    # dead ones not held at zero.
    training_steps(layer, x, y, 30, learning_rate=0.1)
    dead = layer.alive_mask.numpy() == 0
    assert dead.mean() == 0.5
    assert np.all(layer.kernel.numpy()[dead] == 0.0)
    with tf.GradientTape() as tape:
        loss = CROSS_ENTROPY(y, layer(x, training=True))
    gradient = tape.gradient(loss, layer.kernel).numpy()
    assert np.all(gradient[dead] == 0.0) and np.any(gradient[~dead] != 0.0)
    # Whatever value a dead weight is given, inference ignores it: its connection is exactly 0.
    expected = x @ (0.8 * layer.alive_mask.numpy() * layer.kernel.numpy()) + layer.bias.numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    layer.kernel.assign(np.where(dead, 123.0, layer.kernel.numpy()))
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_keep_prob_one_is_gradual_pruning_without_dropconnect():
    # The control arm of notebook 08's study: same schedule and scores, no DropConnect noise.
    x, y = synthetic_problem(3)
    keras.utils.set_random_seed(3)
    layer = PersistentDropConnectDense(3, 1.0, target_sparsity=0.5, prune_start=2, prune_end=8,
                                       prune_every=2, seed=3)
    training_steps(layer, x, y, 10)
    alive = layer.alive_mask.numpy()
    assert alive.mean() == 0.5
    # A training pass is deterministic and is the pruned Dense layer x(A⊙W) + b.
    expected = x @ (alive * layer.kernel.numpy()) + layer.bias.numpy()
    for _ in range(2):
        np.testing.assert_allclose(layer(x, training=True).numpy(), expected, rtol=1e-5,
                                   atol=1e-5)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_taylor_score_is_the_sum_over_steps_of_abs_weight_times_gradient():
    x, y = synthetic_problem(2)
    layer = PersistentDropConnectDense(3, 1.0, target_sparsity=0.5, prune_start=10,
                                       prune_end=20)  # keep_prob 1: every gradient counts
    layer(x)
    expected = np.zeros(layer.kernel.shape)
    optimizer = keras.optimizers.SGD(0.1)
    for _ in range(3):
        kernel = layer.kernel.numpy()
        with tf.GradientTape() as tape:
            loss = CROSS_ENTROPY(y, layer(x, training=True))
        gradients = tape.gradient(loss, layer.trainable_weights)
        expected += np.abs(kernel * gradients[0].numpy())
        optimizer.apply_gradients(zip(gradients, layer.trainable_weights))
    np.testing.assert_allclose(layer.taylor_score.numpy(), expected, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("score", ["taylor", "magnitude"])
def test_a_pruning_event_drops_the_lowest_scored_alive_connections(score):
    layer = PersistentDropConnectDense(4, 1.0, target_sparsity=0.25, score=score,
                                       prune_start=0, prune_end=1)
    x = np.ones((2, 6), np.float32)
    layer(x)
    rng = np.random.default_rng(3)
    kernel = rng.normal(size=(6, 4)).astype(np.float32)
    taylor = rng.uniform(size=(6, 4)).astype(np.float32)
    layer.kernel.assign(kernel)
    layer.taylor_score.assign(taylor)
    layer(x, training=True)  # step 0: prune to round(s(0) · 24) = 0, nothing dies
    assert layer.alive_mask.numpy().sum() == 24
    used = np.abs(kernel) if score == "magnitude" else taylor
    layer.taylor_score.assign(taylor)
    layer(x, training=True)  # step 1 = prune_end: 6 of 24 die
    dead = layer.alive_mask.numpy() == 0
    assert dead.sum() == 6
    assert used[dead].max() < used[~dead].min()
    assert np.all(layer.taylor_score.numpy() == 0.0)  # the scores restart after an event


def test_under_model_fit_the_layer_prunes_to_its_target_and_still_learns():
    x, y = synthetic_problem(4, examples=512)
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((12,)),
                              PersistentDropConnectDense(32, 0.8, activation="relu",
                                                         target_sparsity=0.6, prune_start=8,
                                                         prune_end=48, prune_every=8, seed=4),
                              keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss=CROSS_ENTROPY,
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=6, verbose=0)  # 16 steps an epoch: 96 steps
    layer = model.layers[0]
    assert int(layer.training_step.numpy()) == 96
    assert float(layer.alive_share()) == pytest.approx(1 - round(0.6 * 12 * 32) / (12 * 32))
    assert np.all(layer.kernel.numpy()[layer.alive_mask.numpy() == 0] == 0.0)
    # 3 classes: chance is 1/3; 512 examples put chance at 0.33 ± 0.02, so 0.8 cannot be luck.
    assert model.evaluate(x, y, verbose=0)[1] > 0.8


def test_config_round_trip_rebuilds_the_same_layer():
    layer = PersistentDropConnectDense(7, 0.6, target_sparsity=0.3, score="magnitude",
                                       prune_start=4, prune_end=40, prune_every=2,
                                       activation="relu", mask="example", seed=3, name="pdc")
    config = layer.get_config()
    assert PersistentDropConnectDense.from_config(config).get_config() == config
    for key in ("keep_prob", "target_sparsity", "score", "prune_start", "prune_end",
                "prune_every", "mask", "seed"):
        assert config[key] == getattr(layer, key)


def test_keras_file_round_trip_keeps_the_alive_mask_the_scores_and_the_step(tmp_path):
    x, y = synthetic_problem(5)
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((12,)),
                              PersistentDropConnectDense(8, 0.7, activation="relu",
                                                         target_sparsity=0.5, prune_start=1,
                                                         prune_end=6, prune_every=1, seed=5),
                              keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss=CROSS_ENTROPY)
    model.fit(x, y, batch_size=64, epochs=2, verbose=0)  # 8 steps: pruned to 50 %
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    layer, original = loaded.layers[0], model.layers[0]
    assert isinstance(layer, PersistentDropConnectDense)
    assert [w.path.split("/")[-1] for w in layer.non_trainable_weights] == [
        "alive_mask", "taylor_score", "training_step"]
    assert float(layer.alive_share()) == 0.5
    for name in ("kernel", "alive_mask", "taylor_score", "training_step"):
        np.testing.assert_array_equal(getattr(layer, name).numpy(),
                                      getattr(original, name).numpy())
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    # The loaded layer still holds its dead weights at zero while training on.
    loaded.compile(optimizer="adam", loss=CROSS_ENTROPY)
    loaded.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert np.all(layer.kernel.numpy()[layer.alive_mask.numpy() == 0] == 0.0)


BAD_ARGUMENTS = [
    ({"target_sparsity": 1.0}, ValueError, "target_sparsity"),
    ({"target_sparsity": -0.1}, ValueError, "target_sparsity"),
    ({"target_sparsity": math.nan}, ValueError, "target_sparsity"),
    ({"target_sparsity": "half"}, TypeError, "target_sparsity"),
    ({"score": "gradient"}, ValueError, "score"),
    ({"score": None}, ValueError, "score"),
    ({"prune_start": -1}, ValueError, "prune_start"),
    ({"prune_start": 1.5}, TypeError, "prune_start"),
    ({"prune_end": 0}, ValueError, "prune_end"),
    ({"prune_start": 10, "prune_end": 10}, ValueError, "prune_end"),
    ({"prune_every": 0}, ValueError, "prune_every"),
    ({"prune_every": True}, TypeError, "prune_every"),
    ({"keep_prob": 0.0}, ValueError, "keep_prob"),
    ({"units": 0}, ValueError, "units"),
]


@pytest.mark.parametrize("kwargs, error, argument", BAD_ARGUMENTS)
def test_bad_constructor_arguments_are_rejected_keras_style(kwargs, error, argument):
    with pytest.raises(error, match=f"Invalid value received for argument `{argument}`"):
        PersistentDropConnectDense(**{"units": 4, **kwargs})


def test_prune_alive_mask_kills_the_lowest_alive_and_never_revives():
    from dcscratch.persistent import prune_alive_mask
    alive = np.array([[1, 0, 1], [1, 1, 0]], np.float32)
    score = np.array([[5.0, 0.1, 3.0], [1.0, 4.0, 9.0]], np.float32)  # dead ones score anything
    np.testing.assert_array_equal(prune_alive_mask(alive, score, 3).numpy(),
                                  [[1, 0, 1], [0, 1, 0]])
    np.testing.assert_array_equal(prune_alive_mask(alive, score, 1).numpy(), alive)  # < dead now
    np.testing.assert_array_equal(prune_alive_mask(alive, score, 6).numpy(), np.zeros((2, 3)))
