"""The course's data: bundled digits by default, MNIST only from a local file."""
import numpy as np
import pytest

import dcscratch
from dcscratch import data


def test_digits_splits_cover_all_1797_images_as_float32_in_unit_interval():
    splits = dcscratch.load_digits(seed=0)
    assert sum(splits.sizes().values()) == 1797
    assert splits.num_features == 64 and splits.num_classes == 10
    for x, y in ((splits.x_train, splits.y_train), (splits.x_val, splits.y_val),
                 (splits.x_test, splits.y_test)):
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.min() == 0.0 and x.max() == 1.0
        assert len(x) == len(y)


def test_digits_splits_are_stratified():
    splits = dcscratch.load_digits(seed=0)
    for labels in (splits.y_train, splits.y_val, splits.y_test):
        share = np.bincount(labels, minlength=10) / len(labels)
        # ~180 images per class: every class share stays near 1/10 in every split.
        assert np.all(np.abs(share - 0.1) < 0.02)


def test_same_seed_same_split_and_other_seed_other_split():
    first, again, other = (dcscratch.load_digits(seed=s) for s in (0, 0, 1))
    np.testing.assert_array_equal(first.x_test, again.x_test)
    np.testing.assert_array_equal(first.y_train, again.y_train)
    assert not np.array_equal(first.x_test, other.x_test)


@pytest.mark.parametrize("kwargs, error", [
    ({"seed": -1}, ValueError), ({"seed": 1.5}, TypeError), ({"seed": None}, TypeError),
    ({"val_fraction": 0.0}, ValueError), ({"test_fraction": 0.7}, ValueError),
])
def test_bad_digits_arguments_are_named(kwargs, error):
    with pytest.raises(error, match=f"`{next(iter(kwargs))}`"):
        dcscratch.load_digits(**kwargs)


def _write_fake_mnist(path, n_train=50, n_test=20):
    rng = np.random.default_rng(0)
    np.savez(path, x_train=rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 10, n_train, dtype=np.uint8),
             x_test=rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
             y_test=rng.integers(0, 10, n_test, dtype=np.uint8))


def test_mnist_is_read_from_a_given_npz_flattened_and_scaled(tmp_path):
    file = tmp_path / "mnist.npz"
    _write_fake_mnist(file)
    splits = dcscratch.load_mnist(file, val_size=10)
    assert splits.sizes() == {"train": 40, "val": 10, "test": 20}
    assert splits.x_train.shape == (40, 784) and splits.x_train.dtype == np.float32
    assert 0.0 <= splits.x_train.min() and splits.x_train.max() <= 1.0
    with np.load(file) as raw:
        np.testing.assert_allclose(splits.x_val[0], raw["x_train"][40].ravel() / 255.0, rtol=1e-6)


def test_mnist_default_location_is_the_keras_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    cache = tmp_path / ".keras" / "datasets"
    cache.mkdir(parents=True)
    _write_fake_mnist(cache / "mnist.npz")
    assert dcscratch.load_mnist(val_size=5).sizes()["val"] == 5


def test_missing_mnist_says_how_to_get_it_and_never_downloads(tmp_path):
    missing = tmp_path / "nowhere" / "mnist.npz"
    with pytest.raises(FileNotFoundError) as caught:
        dcscratch.load_mnist(missing)
    message = str(caught.value)
    assert str(missing) in message
    assert "never downloads" in message and "keras.datasets.mnist.load_data()" in message
    assert not missing.exists()


def test_mnist_file_without_the_expected_arrays_is_rejected(tmp_path):
    file = tmp_path / "other.npz"
    np.savez(file, images=np.zeros((3, 28, 28)))
    with pytest.raises(ValueError, match="`path`"):
        dcscratch.load_mnist(file)


def test_load_dataset_defaults_to_the_digits():
    assert dcscratch.load_dataset().name == "digits"


def test_unknown_dataset_name_is_rejected():
    with pytest.raises(ValueError, match="`name`.*'digits', 'mnist'"):
        data.load_dataset("cifar10")
