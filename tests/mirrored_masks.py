"""Run in a subprocess by test_keras_layer: per-replica outputs under MirroredStrategy.

Logical devices must be configured before TensorFlow starts its runtime, which the
test process has already done; hence a separate process. Prints one JSON line.
"""
import json
import sys

from dcscratch import devices

replica_devices = devices.split_cpu(2)  # before any TensorFlow operation runs

from dcscratch import distribute  # noqa: E402  (after the device configuration)
from dcscratch.tf_common import tf  # noqa: E402

mask = sys.argv[1] if len(sys.argv) > 1 else "example"
strategy = tf.distribute.MirroredStrategy(replica_devices)
if mask == "chunks":
    # The per-example layer's outputs and kernel gradients on each replica, for several chunk
    # sizes: sys.argv[2:] (4 examples per replica, so 3 leaves an uneven last chunk).
    print(json.dumps({size: distribute.replica_outputs_and_gradients(strategy, chunk_size=int(size))
                      for size in sys.argv[2:]}))
else:
    print(json.dumps(distribute.replica_masks(strategy, mask=mask)))
