"""Tests of the train/test split and of the file loaders of ibkit.datasets.

The IDX, npz and csv files are written here by hand (the IDX header packed with
``struct``), so the expected arrays are known independently of the loaders.
"""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pandas as pd
import pytest

from ibkit.datasets.files import load_digits, load_mnist, load_table
from ibkit.datasets.split import train_test_split

# ---------------------------------------------------------------- train_test_split


@pytest.fixture(scope="module")
def labelled():
    """100 rows ordered by class: 60 of class 0, 30 of class 1, 10 of class 2."""
    y = np.repeat([0, 1, 2], [60, 30, 10])
    x = np.arange(200, dtype=np.float64).reshape(100, 2)
    return x, y


@pytest.mark.parametrize("fraction", [0.1, 0.37, 0.5, 0.85])
def test_split_sizes_and_class_proportions(labelled, fraction):
    x, y = labelled
    s = train_test_split(x, y, fraction, random_state=3)
    n_train = int(np.floor(fraction * 100 + 0.5))
    assert s.train_index.size == n_train
    assert s.test_index.size == 100 - n_train
    # each class contributes fraction * its count to the training set, within one row
    expected = fraction * np.array([60, 30, 10])
    assert np.all(np.abs(np.bincount(s.y_train, minlength=3) - expected) < 1)


def test_split_rounds_to_nearest():
    y = np.array([0, 1] * 5)
    assert train_test_split(np.zeros(10), y, 0.25).train_index.size == 3  # 2.5 rounds up
    assert train_test_split(np.zeros(10), y, 0.24).train_index.size == 2
    assert train_test_split(np.zeros(10), y, 0.26, stratify=False).train_index.size == 3


def test_split_indices_partition_rows_and_select_them(labelled):
    x, y = labelled
    s = train_test_split(x, y, 0.7, random_state=0)
    both = np.concatenate([s.train_index, s.test_index])
    np.testing.assert_array_equal(np.sort(both), np.arange(100))
    np.testing.assert_array_equal(s.x_train, x[s.train_index])
    np.testing.assert_array_equal(s.y_train, y[s.train_index])
    np.testing.assert_array_equal(s.x_test, x[s.test_index])
    np.testing.assert_array_equal(s.y_test, y[s.test_index])


def test_split_is_shuffled(labelled):
    # the rows are ordered by class, so taking the first rows would leave class 2 out
    x, y = labelled
    s = train_test_split(x, y, 0.5, random_state=0, stratify=False)
    assert not np.array_equal(np.sort(s.train_index), np.arange(50))
    assert not np.array_equal(s.train_index, np.sort(s.train_index))


def test_split_seeding(labelled):
    x, y = labelled
    a = train_test_split(x, y, 0.6, random_state=5)
    b = train_test_split(x, y, 0.6, random_state=5)
    c = train_test_split(x, y, 0.6, random_state=6)
    np.testing.assert_array_equal(a.train_index, b.train_index)
    assert not np.array_equal(a.train_index, c.train_index)
    g1 = train_test_split(x, y, 0.6, random_state=np.random.default_rng(1))
    g2 = train_test_split(x, y, 0.6, random_state=np.random.default_rng(1))
    np.testing.assert_array_equal(g1.test_index, g2.test_index)


def test_split_keeps_trailing_shape():
    images = np.arange(40).reshape(10, 2, 2)
    s = train_test_split(images, np.arange(10), 0.5, stratify=False)
    assert s.x_train.shape == (5, 2, 2)
    np.testing.assert_array_equal(s.x_train[:, 0, 0], 4 * s.train_index)


@pytest.mark.parametrize("fraction", [0, 1, 1.2, -0.1, True, "0.5", float("nan")])
def test_split_rejects_bad_fraction(labelled, fraction):
    with pytest.raises(ValueError, match="train_size must be a fraction"):
        train_test_split(*labelled, fraction)


def test_split_rejects_bad_input(labelled):
    x, y = labelled
    with pytest.raises(ValueError, match="leaves 0 training"):
        train_test_split(x, y, 0.001)
    with pytest.raises(ValueError, match="same number of rows"):
        train_test_split(x[:-1], y)
    with pytest.raises(ValueError, match="y must be 1-D"):
        train_test_split(x, y[:, None])
    with pytest.raises(ValueError, match=r"classes \[7\] have one row"):
        train_test_split(np.zeros(5), [0, 0, 1, 1, 7])
    with pytest.raises(ValueError, match="one row of each of the 3 classes"):
        train_test_split(x, y, 0.02)


# ---------------------------------------------------------------- load_digits


def test_load_digits():
    x, y = load_digits()
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(np.unique(y), np.arange(10))
    raw, _ = load_digits(scale=False)
    assert raw.max() == 16.0
    np.testing.assert_allclose(raw / 16.0, x)
    # scikit-learn's digits hold pixel counts 0..16 in steps of 1, 64 per image
    np.testing.assert_array_equal(raw, np.round(raw))


# ---------------------------------------------------------------- load_mnist

PIXELS = np.array([[[0, 255, 51], [102, 0, 17]], [[255, 255, 0], [1, 2, 3]]], dtype=np.uint8)
DIGITS = np.array([7, 2], dtype=np.uint8)


def idx_bytes(magic: int, values: np.ndarray) -> bytes:
    """An IDX file: big-endian magic, one big-endian uint32 per dimension, then the bytes."""
    return struct.pack(f">I{values.ndim}I", magic, *values.shape) + values.tobytes()


@pytest.fixture
def idx_files(tmp_path):
    images, labels = tmp_path / "t10k-images-idx3-ubyte", tmp_path / "t10k-labels-idx1-ubyte"
    images.write_bytes(idx_bytes(2051, PIXELS))
    labels.write_bytes(idx_bytes(2049, DIGITS))
    return images, labels


def check_mnist(x, y):
    assert x.dtype == np.float32 and x.shape == (2, 6)
    np.testing.assert_allclose(x[0], [0, 1, 0.2, 0.4, 0, 1 / 15], rtol=1e-6)
    np.testing.assert_allclose(x[1], [1, 1, 0, 1 / 255, 2 / 255, 3 / 255], rtol=1e-6)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [7, 2])


def test_mnist_idx_plain(idx_files):
    check_mnist(*load_mnist(*idx_files))
    check_mnist(*load_mnist(str(idx_files[0]), str(idx_files[1])))


def test_mnist_idx_gzip(tmp_path):
    images, labels = tmp_path / "images.gz", tmp_path / "labels.gz"
    images.write_bytes(gzip.compress(idx_bytes(2051, PIXELS)))
    labels.write_bytes(gzip.compress(idx_bytes(2049, DIGITS)))
    check_mnist(*load_mnist(images, labels))


def test_mnist_npz_xy(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x=PIXELS, y=DIGITS)
    check_mnist(*load_mnist(path))
    np.savez(path, x=PIXELS.reshape(2, 6) / 255.0, y=DIGITS.astype(np.int32))
    check_mnist(*load_mnist(path))


def test_mnist_npz_keras_concatenates_train_then_test(tmp_path):
    path = tmp_path / "keras.npz"
    np.savez(path, x_test=PIXELS[1:], y_test=DIGITS[1:], x_train=PIXELS[:1], y_train=DIGITS[:1])
    check_mnist(*load_mnist(path))


def test_mnist_rejects_bad_idx(tmp_path, idx_files):
    images, labels = idx_files
    with pytest.raises(ValueError, match="expected magic number 2051, found 2049"):
        load_mnist(labels, images)
    with pytest.raises(ValueError, match="pass the matching labels file"):
        load_mnist(images)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(idx_bytes(2051, PIXELS)[:-1])
    with pytest.raises(ValueError, match=r"shape \(2, 2, 3\) \(12 bytes.*holds 11"):
        load_mnist(truncated, labels)
    short = tmp_path / "short"
    short.write_bytes(struct.pack(">II", 2051, 2))
    with pytest.raises(ValueError, match="header needs 16 bytes"):
        load_mnist(short, labels)
    tiny = tmp_path / "tiny"
    tiny.write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="found 2 bytes"):
        load_mnist(tiny, labels)
    three = tmp_path / "three-labels"
    three.write_bytes(idx_bytes(2049, np.array([1, 2, 3], dtype=np.uint8)))
    with pytest.raises(ValueError, match="2 samples but 3 labels"):
        load_mnist(images, three)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b" + b"\x00" * 30)
    with pytest.raises(ValueError, match="starts like a gzip file"):
        load_mnist(broken, labels)


def test_mnist_rejects_bad_npz(tmp_path, idx_files):
    path = tmp_path / "bad.npz"
    np.savez(path, images=PIXELS, labels=DIGITS)
    with pytest.raises(ValueError, match=r"'x' and 'y'.*holds \['images', 'labels'\]"):
        load_mnist(path)
    np.savez(path, x=PIXELS, y=DIGITS)
    with pytest.raises(ValueError, match="without labels"):
        load_mnist(path, idx_files[1])
    np.savez(path, x=PIXELS.astype(np.float64), y=DIGITS)
    with pytest.raises(ValueError, match=r"values in \[0, 255\]"):
        load_mnist(path)
    np.savez(path, x=PIXELS, y=np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="must be integers"):
        load_mnist(path)
    np.savez(path, x=PIXELS[:1], y=DIGITS)
    with pytest.raises(ValueError, match="1 samples but 2 labels"):
        load_mnist(path)
    np.savez(path, x_train=PIXELS, y_train=DIGITS[:1], x_test=PIXELS, y_test=DIGITS)
    with pytest.raises(ValueError, match=r"\(x_train, y_train\): 2 samples but 1 labels"):
        load_mnist(path)
    not_zip = tmp_path / "text.npz"
    not_zip.write_text("hello")
    with pytest.raises(ValueError, match="not a readable .npz archive"):
        load_mnist(not_zip)
    single = tmp_path / "single.npz"
    with open(single, "wb") as f:
        np.save(f, PIXELS)
    with pytest.raises(ValueError, match="single array"):
        load_mnist(single)


def test_mnist_missing_file(tmp_path, idx_files):
    with pytest.raises(FileNotFoundError, match="nope-images"):
        load_mnist(tmp_path / "nope-images", idx_files[1])
    with pytest.raises(FileNotFoundError, match="nope-labels"):
        load_mnist(idx_files[0], tmp_path / "nope-labels")


# ---------------------------------------------------------------- load_table


def test_table_csv_default_and_chosen_columns(tmp_path):
    path = tmp_path / "toy.csv"
    path.write_text("a,y,b\n0.5,1,3\n-1,0,4\n2,2,5\n")
    x, y = load_table(path)
    np.testing.assert_array_equal(x, [[0.5, 3], [-1, 4], [2, 5]])
    assert x.dtype == np.float64
    np.testing.assert_array_equal(y, [1, 0, 2])
    assert y.dtype == np.int64
    x, y = load_table(path, x=["b"], y="a")
    np.testing.assert_array_equal(x, [[3], [4], [5]])
    np.testing.assert_array_equal(y, [0.5, -1, 2])
    assert y.dtype == np.float64
    x, _ = load_table(path, x="b")
    assert x.shape == (3, 1)


def test_table_csv_integer_valued_floats_become_labels(tmp_path):
    path = tmp_path / "floats.csv"
    path.write_text("f,y\n1,1.0\n2,0.0\n")
    _, y = load_table(path)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [1, 0])


def test_table_npz(tmp_path):
    path = tmp_path / "t.npz"
    x_true = np.arange(6.0).reshape(3, 2)
    np.savez(path, x=x_true, y=np.array([1, 0, 1], dtype=np.int8), z=np.arange(3.0) + 0.5)
    x, y = load_table(path)
    np.testing.assert_array_equal(x, x_true)
    np.testing.assert_array_equal(y, [1, 0, 1])
    assert y.dtype == np.int64
    x, y = load_table(path, x="z", y="y")
    np.testing.assert_array_equal(x, [[0.5], [1.5], [2.5]])


def test_table_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        load_table(tmp_path / "missing.csv")
    other = tmp_path / "data.parquet"
    other.write_text("")
    with pytest.raises(ValueError, match=r"expected a .csv or .npz file; got '.parquet'"):
        load_table(other)
    csv = tmp_path / "t.csv"
    csv.write_text("a,label\n1,0\n2,1\n")
    with pytest.raises(ValueError, match=r"no column 'y'; columns are: a, label"):
        load_table(csv)
    with pytest.raises(ValueError, match=r"no column 'c'"):
        load_table(csv, x=["a", "c"], y="label")
    csv.write_text("a,y\n1,0\n,1\n")
    with pytest.raises(ValueError, match=r"t.csv: column 'a', line 3: '' is not a number"):
        load_table(csv)
    csv.write_text("a,y\n1,0\n2,\n")
    with pytest.raises(ValueError, match=r"t.csv: column 'y', line 3: '' is not a number"):
        load_table(csv)
    csv.write_text("a,y\n1,cat\n2,\n3,dog\n")
    with pytest.raises(ValueError, match=r"t.csv: column 'y', line 3 is empty"):
        load_table(csv)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(IsADirectoryError, match=r"folder.csv: is a directory"):
        load_table(tmp_path / "folder.csv")

    npz = tmp_path / "t.npz"
    np.savez(npz, x=np.zeros((3, 2)), y=np.zeros(2))
    with pytest.raises(ValueError, match="x has 3 rows but y has 2"):
        load_table(npz)
    with pytest.raises(ValueError, match=r"no array 'target'; arrays are: x, y"):
        load_table(npz, y="target")
    np.savez(npz, x=np.zeros((2, 2)), y=np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_table(npz, x="y", y="y")
    np.savez(npz, x=np.zeros((2, 2)), y=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="one column or a 1-D array"):
        load_table(npz)


def test_table_text_labels_are_coded_in_sorted_order(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,y\n1,dog\n2,cat\n3,dog\n")
    x, y = load_table(csv)
    np.testing.assert_array_equal(x, [[1], [2], [3]])
    np.testing.assert_array_equal(y, [1, 0, 1])  # cat = 0, dog = 1


def test_table_target_of_numbers_with_a_typo_is_an_error(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,y\n" + "".join(f"{i},{0.5 * i}\n" for i in range(9)) + "9,4.5x\n")
    with pytest.raises(ValueError, match=r"t.csv: column 'y', line 11: '4.5x' is not a number"):
        load_table(csv)


def test_table_y_labels_codes_the_target(tmp_path):
    csv = tmp_path / "t.csv"
    csv.write_text("a,y\n1,0.5\n2,low\n3,0.5\n4,0.25\n")
    _, y = load_table(csv, y_labels=True)
    np.testing.assert_array_equal(y, [1, 2, 1, 0])  # sorted: "0.25", "0.5", "low"


def test_table_refuses_complex_arrays(tmp_path):
    npz = tmp_path / "t.npz"
    np.savez(npz, x=np.ones((3, 2)), y=np.array([1, 0, 1]) * 1j)
    with pytest.raises(ValueError, match=r"t.npz: array 'y' is complex"):
        load_table(npz)


def test_table_several_npz_input_arrays_are_stacked(tmp_path):
    npz = tmp_path / "t.npz"
    np.savez(npz, a=np.arange(3.0), b=np.arange(3.0) * 10, y=np.array([0, 1, 0]))
    x, y = load_table(npz, x=["a", "b"])
    np.testing.assert_array_equal(x, [[0, 0], [1, 10], [2, 20]])


def test_table_csv_matches_dataframe_written_by_pandas(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(20, 3)), columns=["u", "v", "w"])
    frame["y"] = rng.integers(0, 4, size=20)
    path = tmp_path / "written.csv"
    frame.to_csv(path, index=False)
    x, y = load_table(path)
    np.testing.assert_allclose(x, frame[["u", "v", "w"]].to_numpy(), rtol=1e-15)
    np.testing.assert_array_equal(y, frame["y"].to_numpy())
