"""Device discovery, seeding, and the GPU paths (the latter only where a GPU is present)."""
import random

import numpy as np
import pytest

import dcscratch
from dcscratch import devices
from dcscratch.tf_common import tf


def test_versions_name_every_library_the_course_uses():
    assert set(devices.versions()) == {"python", "tensorflow", "keras", "numpy", "scikit-learn",
                                       "matplotlib"}
    assert int(devices.versions()["keras"].split(".")[0]) == 3


def test_the_course_runs_on_the_cpu_when_no_gpu_is_visible():
    if devices.has_gpu():
        assert devices.preferred_device() == "/GPU:0"
    else:
        assert devices.preferred_device() == "/CPU:0"
    assert "/CPU:0" in devices.device_names()


def test_split_cpu_after_start_up_explains_what_to_do():
    tf.ones(1)  # the runtime is running now
    with pytest.raises(RuntimeError, match="before TensorFlow runs any operation"):
        devices.split_cpu(3)
    with pytest.raises(ValueError, match="`count`"):
        devices.split_cpu(0)


def test_set_seeds_makes_python_numpy_and_tensorflow_repeatable():
    def draw():
        return (random.random(), np.random.rand(), float(tf.random.uniform(())))

    dcscratch.set_seeds(3, deterministic_ops=False)
    first = draw()
    dcscratch.set_seeds(3, deterministic_ops=False)
    assert draw() == first
    dcscratch.set_seeds(4, deterministic_ops=False)
    assert draw() != first
    with pytest.raises(TypeError, match="`seed`"):
        dcscratch.set_seeds(None)


gpu = pytest.mark.gpu


@gpu
def test_gpu_layer_runs_on_the_gpu():
    layer = dcscratch.DropConnectDense(32, 0.5, mask="example", seed=0)
    with tf.device("/GPU:0"):
        out = layer(tf.ones((16, 8)), training=True)
    assert "GPU" in out.device


@gpu
def test_gpu_per_example_regenerated_masks_match_stored_masks():
    from dcscratch.per_example import per_example_matmul, per_example_matmul_naive

    with tf.device("/GPU:0"):
        x = tf.random.stateless_normal((20, 30), seed=[1, 1])
        W = tf.Variable(tf.random.stateless_normal((30, 10), seed=[2, 2]))
        seed = tf.constant([3, 3], tf.int64)
        results = []
        for function in (per_example_matmul, per_example_matmul_naive):
            with tf.GradientTape() as tape:
                out = function(x, W, 0.5, seed)
                loss = tf.reduce_sum(out ** 2)
            results.append((out.numpy(), tape.gradient(loss, W).numpy()))
    for lean, naive in zip(*results):
        np.testing.assert_allclose(lean, naive, rtol=1e-5, atol=1e-5)


@gpu
def test_gpu_benchmark_times_masks_on_the_gpu_and_names_it():
    from dcscratch import bench

    assert bench.device_label("/GPU:0").startswith("GPU (")
    rows = bench.bench_masks((64,), repeats=1, device="/GPU:0")
    assert {row["way"] for row in rows} >= {"tf-easy", bench.LAYER_SAMPLER, bench.RANDOM_BITS}
