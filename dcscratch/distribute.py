"""Masks under ``tf.distribute``: what each replica of a strategy draws in one training call."""
import keras
import numpy as np

from dcscratch.keras_layer import DropConnectDense
from dcscratch.tf_import import quiet_tensorflow


def replica_masks(strategy, *, examples=8, features=32, units=64, keep_prob=0.5, seed=0,
                  mask="example"):
    """One training call of a seeded ``DropConnectDense`` and a seeded Keras ``Dropout`` per replica.

    The global batch is ``examples`` identical rows of ones, split between the replicas. The
    DropConnect layer (per-example masks, W = 1, no bias) then outputs, for each example and
    unit, the number of kept connections: identical rows mean identical masks. Used by notebook
    05 and by ``tests/mirrored_masks.py``.

    Args:
        strategy: a ``tf.distribute`` strategy, e.g. ``MirroredStrategy(["/CPU:0", "/CPU:1"])``.
        examples: size of the global batch; divisible by the number of replicas.
        features, units: the layer's input and output sizes.
        keep_prob: probability that a connection is kept (Dropout gets ``rate = 1 - keep_prob``).
        seed: the seed of both layers.
        mask: the DropConnect layer's per-example mode: ``"example"``, ``"flipout"`` or
            ``"gaussian"`` (whose output has the kept count's mean and variance).

    Returns:
        dict: ``replicas``, ``examples_per_replica`` (list), ``distinct_dropconnect_rows`` among
        the global batch, ``dropconnect_replicas_equal`` and ``keras_dropout_replicas_equal``
        (every replica returned the same array), ``kept_fraction`` of all DropConnect
        connections and the number of mask ``entries`` it is measured on.
    """
    tf = quiet_tensorflow()
    with strategy.scope():
        layer = DropConnectDense(units, keep_prob, mask=mask, seed=seed,
                                 kernel_initializer="ones", use_bias=False)
        layer.build((None, features))
        rate = 1 - keep_prob  # Keras's drop rate
        dropout = keras.layers.Dropout(rate, seed=seed)
    batch = tf.data.Dataset.from_tensor_slices(tf.ones((examples, features))).batch(examples)
    identical = next(iter(strategy.experimental_distribute_dataset(batch)))

    @tf.function
    def step(inputs):
        return layer(inputs, training=True), dropout(inputs, training=True)

    dropconnect_out, dropout_out = strategy.run(step, args=(identical,))
    dropconnect = [t.numpy() for t in strategy.experimental_local_results(dropconnect_out)]
    keras_dropout = [t.numpy() for t in strategy.experimental_local_results(dropout_out)]
    rows = np.concatenate(dropconnect)
    return {
        "replicas": len(dropconnect),
        "examples_per_replica": [len(part) for part in dropconnect],
        "distinct_dropconnect_rows": len({row.tobytes() for row in rows}),
        "dropconnect_replicas_equal": all(np.array_equal(dropconnect[0], part)
                                          for part in dropconnect[1:]),
        "keras_dropout_replicas_equal": all(np.array_equal(keras_dropout[0], part)
                                            for part in keras_dropout[1:]),
        "kept_fraction": float(rows.mean() / features),
        "entries": int(rows.size * features),
    }


def replica_outputs_and_gradients(strategy, *, examples=8, features=32, units=64, keep_prob=0.5,
                                  seed=0, chunk_size=None):
    """Each replica's outputs and kernel gradient of a seeded per-example ``DropConnectDense``.

    One training call on a global batch of ``examples`` random rows (fixed seed), split between
    the replicas; the gradient is that of Σ outputs · c for fixed random c. Returns the arrays as
    nested lists, ``{"outputs": [...per replica], "gradients": [...per replica]}``, so that runs
    with different ``chunk_size`` can be compared exactly. ``chunk_size=None``: the default.
    """
    from dcscratch.per_example import DEFAULT_CHUNK_SIZE

    tf = quiet_tensorflow()
    with strategy.scope():
        layer = DropConnectDense(units, keep_prob, mask="example", seed=seed,
                                 chunk_size=chunk_size or DEFAULT_CHUNK_SIZE,
                                 kernel_initializer=keras.initializers.RandomNormal(seed=seed))
        layer.build((None, features))
    rows = tf.random.stateless_normal((examples, features), seed=[seed, 1])
    weights = tf.random.stateless_normal((units,), seed=[seed, 2])
    batch = tf.data.Dataset.from_tensor_slices(rows).batch(examples)
    inputs = next(iter(strategy.experimental_distribute_dataset(batch)))

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            out = layer(x, training=True)
            objective = tf.reduce_sum(out * weights)
        return out, tape.gradient(objective, layer.kernel)

    out, gradient = strategy.run(step, args=(inputs,))
    return {"outputs": [t.numpy().tolist() for t in strategy.experimental_local_results(out)],
            "gradients": [t.numpy().tolist() for t in strategy.experimental_local_results(gradient)]}
