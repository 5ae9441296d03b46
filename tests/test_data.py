"""The course's data: bundled digits by default, MNIST and Fashion-MNIST only from local files."""
import gzip

import numpy as np
import pytest
from idx_files import write_idx, write_idx_folder

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
    with pytest.raises(ValueError, match="`name`.*'digits', 'mnist', 'fashion-mnist'"):
        data.load_dataset("cifar10")


# ---------------------------------------------------------------- IDX files (MNIST, Fashion-MNIST)
@pytest.mark.parametrize("gzipped", [True, False])
def test_idx_folder_is_read_gzipped_or_not_with_the_last_training_images_as_validation(
        tmp_path, gzipped):
    arrays = write_idx_folder(tmp_path, gzipped=gzipped)
    splits = dcscratch.load_fashion_mnist(tmp_path, val_size=10)
    assert splits.name == "fashion-mnist"
    assert splits.sizes() == {"train": 20, "val": 10, "test": 12}
    assert splits.x_train.shape == (20, 784) and splits.x_train.dtype == np.float32
    assert splits.y_train.dtype == np.int64
    np.testing.assert_array_equal(splits.y_val, arrays["y_train"][20:])
    np.testing.assert_allclose(splits.x_val[0], arrays["x_train"][20].ravel() / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(splits.y_test, arrays["y_test"])


def test_mnist_accepts_a_folder_of_idx_files_like_the_npz(tmp_path):
    arrays = write_idx_folder(tmp_path / "idx")
    np.savez(tmp_path / "mnist.npz", **{key: value.astype(np.uint8) for key, value in arrays.items()})
    from_idx = dcscratch.load_mnist(tmp_path / "idx", val_size=5)
    from_npz = dcscratch.load_mnist(tmp_path / "mnist.npz", val_size=5)
    assert from_idx.name == from_npz.name == "mnist"
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(from_idx, field), getattr(from_npz, field))


def test_a_missing_fashion_mnist_folder_is_refused_by_name_with_the_package_to_install(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as caught:
        dcscratch.load_fashion_mnist(missing)
    message = str(caught.value)
    assert str(missing) in message and "apt-get install dataset-fashion-mnist" in message
    assert "never downloads" in message and not missing.exists()


def test_a_missing_file_is_named(tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="lacks t10k-labels-idx1-ubyte.*dataset-fashion-mnist"):
        dcscratch.load_fashion_mnist(tmp_path)


def test_an_mnist_folder_error_says_where_mnist_comes_from(tmp_path):
    write_idx_folder(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="yann.lecun.com/exdb/mnist"):
        dcscratch.load_mnist(tmp_path)


LABELS = np.arange(10)


@pytest.mark.parametrize("damage, expected", [
    (lambda path: write_idx(path, LABELS, cut=3), "is truncated: its header promises 10 bytes"),
    (lambda path: write_idx(path, LABELS, extra=b"xx"), "longer than its header says"),
    (lambda path: path.write_bytes(gzip.compress(write_idx(path, LABELS).read_bytes())[:-9]),
     "damaged or truncated gzip"),
    (lambda path: write_idx(path, LABELS, magic=0x00000D01), "magic number is 0x00000d01"),
    (lambda path: write_idx(path, np.zeros((10, 28, 28))), "magic number is 0x00000803"),
    (lambda path: path.write_bytes(b"<html>Not Found</html>"), "foreign or damaged"),
    (lambda path: path.write_bytes(b"\x00\x00"), "fewer than 4 bytes"),
    (lambda path: path.write_bytes(b"\x00\x00\x08\x01\x00"), "truncated inside its header"),
])
def test_a_damaged_or_foreign_file_is_named_with_what_is_wrong(tmp_path, damage, expected):
    write_idx_folder(tmp_path, gzipped=False, n_test=10)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    damage(path)
    with pytest.raises(data.DataFileError) as caught:
        dcscratch.load_fashion_mnist(tmp_path, val_size=5)
    message = str(caught.value)
    assert str(path) in message and expected in message
    assert "dataset-fashion-mnist" in message


def test_images_of_another_size_are_refused(tmp_path):
    write_idx_folder(tmp_path, gzipped=False)
    path = write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((30, 32, 32)))
    with pytest.raises(data.DataFileError, match=f"{path}.*shape \\(30, 32, 32\\)"):
        dcscratch.load_fashion_mnist(tmp_path, val_size=5)


def test_images_and_labels_of_different_counts_are_refused(tmp_path):
    write_idx_folder(tmp_path, gzipped=False)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(29))
    with pytest.raises(data.DataFileError, match="train images are 30 but their labels 29"):
        dcscratch.load_fashion_mnist(tmp_path, val_size=5)


def test_labels_outside_the_ten_classes_are_refused(tmp_path):
    write_idx_folder(tmp_path, gzipped=False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.full(12, 10))
    with pytest.raises(data.DataFileError, match="test label is 10, outside 0..9"):
        dcscratch.load_fashion_mnist(tmp_path, val_size=5)


@pytest.mark.parametrize("val_size", [0, 30, 2.5, True])
def test_a_validation_size_outside_the_training_set_is_refused_by_name(tmp_path, val_size):
    write_idx_folder(tmp_path)
    with pytest.raises(ValueError, match="argument `val_size`. Expected an integer in \\[1, 29\\]"):
        dcscratch.load_fashion_mnist(tmp_path, val_size=val_size)


def test_fashion_mnist_loads_50000_10000_10000_balanced_images_from_debians_files(
        fashion_mnist_folder):
    splits = dcscratch.load_fashion_mnist()
    assert splits.sizes() == {"train": 50_000, "val": 10_000, "test": 10_000}
    assert splits.num_features == 784 and splits.num_classes == 10
    assert splits.x_train.dtype == np.float32 and splits.y_train.dtype == np.int64
    assert splits.x_train.min() == 0.0 and splits.x_train.max() == 1.0
    # The official files: 6,000 images of each class for training, 1,000 for testing ...
    assert np.all(np.bincount(np.concatenate([splits.y_train, splits.y_val])) == 6000)
    assert np.all(np.bincount(splits.y_test) == 1000)
    # ... in their published order (ankle boot, T-shirt, T-shirt, dress, T-shirt; ankle boot,
    # pullover, trouser, trouser, shirt) with the published mean pixel value 0.2860.
    assert splits.y_train[:5].tolist() == [9, 0, 0, 3, 0]
    assert splits.y_test[:5].tolist() == [9, 2, 1, 1, 6]
    pixels = np.concatenate([splits.x_train, splits.x_val])
    assert abs(float(pixels.mean(dtype=np.float64)) - 0.2860) < 0.0001
    assert dcscratch.load_dataset("fashion-mnist").sizes() == splits.sizes()


def test_the_fingerprint_tells_splits_apart():
    first, again, other = (dcscratch.load_digits(seed=s) for s in (0, 0, 1))
    assert first.fingerprint() == again.fingerprint() != other.fingerprint()
