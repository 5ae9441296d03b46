"""Run in a subprocess by test_keras_layer: per-replica outputs under MirroredStrategy.

Logical devices must be configured before TensorFlow starts its runtime, which the
test process has already done; hence a separate process. Prints one JSON line.
"""
import json

import numpy as np

from dcscratch.tf_import import quiet_tensorflow

tf = quiet_tensorflow()
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402  (after the device configuration)

from dcscratch import DropConnectDense  # noqa: E402

strategy = tf.distribute.MirroredStrategy(["/CPU:0", "/CPU:1"])
with strategy.scope():
    layer = DropConnectDense(64, 0.5, mask="example", seed=0, kernel_initializer="ones",
                             use_bias=False)
    layer.build((None, 32))
    dropout = keras.layers.Dropout(0.5, seed=0)

identical_inputs = tf.ones((8, 32))
dataset = strategy.experimental_distribute_dataset(
    tf.data.Dataset.from_tensor_slices(identical_inputs).batch(8))


@tf.function
def step(batch):
    return layer(batch, training=True), dropout(batch, training=True)


outputs = strategy.run(step, args=(next(iter(dataset)),))
dropconnect = [t.numpy() for t in strategy.experimental_local_results(outputs[0])]
keras_dropout = [t.numpy() for t in strategy.experimental_local_results(outputs[1])]
rows = np.concatenate(dropconnect)
print(json.dumps({
    "replicas": len(dropconnect),
    "examples_per_replica": [len(part) for part in dropconnect],
    "distinct_dropconnect_rows": len({row.tobytes() for row in rows}),
    "dropconnect_replicas_equal": bool(np.array_equal(dropconnect[0], dropconnect[1])),
    "keras_dropout_replicas_equal": bool(np.array_equal(keras_dropout[0], keras_dropout[1])),
    "kept_fraction": float(rows.mean() / 32),
    "entries": int(rows.size * 32),
}))
