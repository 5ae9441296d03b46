"""One call that makes a notebook or test repeatable."""
import random

import numpy as np

from dcscratch.tf_import import quiet_tensorflow
from dcscratch.validation import check_seed


def set_seeds(seed=0, *, deterministic_ops=True):
    """Seed Python, NumPy, TensorFlow and Keras; optionally make TF ops deterministic.

    Args:
        seed: non-negative integer used for every generator.
        deterministic_ops: also call ``tf.config.experimental.enable_op_determinism()``,
            so that the same seed gives the same numbers on every run (at some cost in
            speed on a GPU).

    Returns:
        The seed, so that a notebook can print what it used.
    """
    seed = check_seed(seed)
    if seed is None:
        raise TypeError("Invalid value received for argument `seed`. "
                        "Expected a non-negative integer. Received: seed=None")
    tf = quiet_tensorflow()
    random.seed(seed)
    np.random.seed(seed)
    # keras.utils.set_random_seed seeds Python, NumPy and the TF/Keras global generators.
    tf.keras.utils.set_random_seed(seed)
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()
    return seed
