r"""Data from files: scikit-learn's digits, MNIST (IDX or ``.npz``) and user tables.

Every loader returns a pair ``(x, y)`` of numpy arrays, one sample per row of ``x``.

- :func:`load_digits` — the 1797 8×8 digits that ship with scikit-learn.
- :func:`load_mnist` — MNIST-style images from the IDX files as distributed by LeCun,
  Cortes & Burges (``*-images-idx3-ubyte`` and ``*-labels-idx1-ubyte``, plain or
  gzip-compressed), or from one ``.npz`` archive.
- :func:`load_table` — a feature table from ``.npz`` or ``.csv``.

The IDX format is big-endian: a 4-byte magic number (two zero bytes, a type code, the
number of dimensions; 2051 = ``0x00000803`` for unsigned-byte images of 3 dimensions,
2049 = ``0x00000801`` for unsigned-byte labels of 1 dimension), one 4-byte unsigned size
per dimension, then the values in row-major order. Pixels are intensities 0–255 and are
divided by 255.

References
----------
Y. LeCun, C. Cortes and C. J. C. Burges, "The MNIST database of handwritten digits",
http://yann.lecun.com/exdb/mnist/ (file format described there).

Examples
--------
>>> x, y = load_digits()
>>> x.shape, x.dtype, float(x.max()), y[:5]
((1797, 64), dtype('float32'), 1.0, array([0, 1, 2, 3, 4]))
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ibkit._io import _existing, _read_npz, read_samples
from ibkit._validation import InvalidParameterError, check_array, optional_module

__all__ = ["TABLE_FORMATS", "load_digits", "load_mnist", "load_table"]

#: File extensions :func:`load_table` reads.
TABLE_FORMATS = (".npz", ".csv")

#: Magic numbers of IDX files of unsigned bytes: 3-D images and 1-D labels.
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049

#: Keys of a keras-style MNIST archive, in the order they are concatenated.
KERAS_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _labels(y: Any, name: str) -> np.ndarray:
    """A finite 1-D target as int64 if every value is an integer, else as float64."""
    y = check_array(y, name, ndim=1)
    return y.astype(np.int64) if np.array_equal(y, np.round(y)) else y


def _read_idx(path: str, magic: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed or not) with magic ``magic``."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidParameterError(
                f"{path!r} starts like a gzip file but cannot be read: {exc}"
            ) from None
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    found = int.from_bytes(data[:4], "big") if len(data) >= 4 else f"{len(data)} bytes"
    if found != magic:
        raise InvalidParameterError(
            f"{path!r} is not an IDX file of {ndim}-D unsigned bytes: expected magic number "
            f"{magic}, found {found}; pass the images file (idx3-ubyte) as images and the "
            "labels file (idx1-ubyte) as labels"
        )
    if len(data) < header:
        raise InvalidParameterError(
            f"{path!r}: the IDX header needs {header} bytes ({ndim} sizes); the file has "
            f"{len(data)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    body = len(data) - header
    if body != int(np.prod(shape)):
        raise InvalidParameterError(
            f"{path!r}: the header announces shape {shape} ({int(np.prod(shape))} bytes of "
            f"data) but the file holds {body}; the file is truncated or not IDX"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def _pixels(x: np.ndarray, name: str) -> np.ndarray:
    """Images, one per row, as float32 in [0, 1]: integers 0–255 are divided by 255."""
    if x.ndim < 2 or x.size == 0:
        raise InvalidParameterError(
            f"{name} must hold at least one image per row; got shape {x.shape}"
        )
    if x.dtype.kind not in "iuf":
        raise InvalidParameterError(
            f"{name} must be numeric pixel intensities; got dtype {x.dtype}"
        )
    flat = x.reshape(x.shape[0], -1)
    if x.dtype.kind == "f" and not np.isfinite(flat).all():
        raise InvalidParameterError(f"{name} has NaN or infinite pixels; pass finite intensities")
    scale = 1.0 if x.dtype.kind == "f" else 255.0
    if flat.min() < 0 or flat.max() > scale:
        raise InvalidParameterError(
            f"{name} has values in [{flat.min():g}, {flat.max():g}]; store pixel intensities "
            "as integers 0-255 or as floats in [0, 1]"
        )
    return flat.astype(np.float32) / np.float32(scale)


def _rows_match(x: np.ndarray, y: np.ndarray, where: str) -> None:
    """Raise ``ValueError`` unless ``x`` has one row per label."""
    if x.shape[0] != y.shape[0]:
        raise InvalidParameterError(
            f"{where}: {x.shape[0]} samples but {y.shape[0]} labels; they must match"
        )


def load_digits(*, scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The 1797 handwritten 8×8 digits embedded in scikit-learn (UCI optical digits).

    Parameters
    ----------
    scale : bool
        Divide the pixel counts (0–16) by 16 so that ``x`` lies in [0, 1].

    Returns
    -------
    x : ndarray of float32, shape (1797, 64)
        One flattened image per row.
    y : ndarray of int64, shape (1797,)
        The digit, 0 to 9.

    Raises
    ------
    ImportError
        If scikit-learn is not installed.

    Examples
    --------
    >>> x, y = load_digits(scale=False)
    >>> float(x.max()), int(np.bincount(y).min())
    (16.0, 174)
    """
    sk_datasets = optional_module("sklearn.datasets", "load_digits", "torch")
    x, y = sk_datasets.load_digits(return_X_y=True)
    x = x / 16.0 if scale else x
    return x.astype(np.float32), y.astype(np.int64)


def load_mnist(
    images: str | os.PathLike[str], labels: str | os.PathLike[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST-style images and labels from IDX files or from one ``.npz`` archive.

    Parameters
    ----------
    images : str or path-like
        Either an IDX images file (magic 2051, shape n × rows × cols, unsigned bytes;
        gzip-compressed files are recognised by their first bytes ``1f 8b``), or an
        ``.npz`` archive holding either arrays ``x`` (n × rows × cols or n × rows·cols)
        and ``y`` (n), or keras-style ``x_train, y_train, x_test, y_test``, which are
        concatenated training rows first, then test rows.
    labels : str or path-like, optional
        The IDX labels file (magic 2049, n unsigned bytes); required with IDX images,
        not allowed with an ``.npz`` archive.

    Returns
    -------
    x : ndarray of float32, shape (n, rows·cols)
        One flattened image per row in [0, 1] (integer pixels divided by 255; float
        pixels must already lie in [0, 1]). MNIST has rows·cols = 784.
    y : ndarray of int64, shape (n,)
        The labels.

    Raises
    ------
    FileNotFoundError
        If a file does not exist.
    ValueError
        If a file is not what it should be (wrong magic number, truncated data, missing
        arrays), the numbers of images and labels differ, or the labels argument does
        not fit the format.

    Examples
    --------
    The IDX files of MNIST load with
    ``load_mnist("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")``; an
    archive of three blank images:

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "mnist.npz")
    ...     np.savez(path, x=np.zeros((3, 28, 28), np.uint8), y=[4, 0, 9])
    ...     x, y = load_mnist(path)
    >>> x.shape, y
    ((3, 784), array([4, 0, 9]))
    """
    images = os.fspath(_existing(images, any_suffix=True))
    if images.lower().endswith(".npz"):
        if labels is not None:
            raise InvalidParameterError(
                f"{images!r} is an .npz archive that holds the labels; call "
                "load_mnist(images) without labels"
            )
        arrays = _read_npz(images)
        if {"x", "y"} <= arrays.keys():
            x, y = arrays["x"], arrays["y"]
        elif set(KERAS_KEYS) <= arrays.keys():
            x_train, y_train, x_test, y_test = (arrays[key] for key in KERAS_KEYS)
            _rows_match(x_train, y_train, f"{images!r} (x_train, y_train)")
            _rows_match(x_test, y_test, f"{images!r} (x_test, y_test)")
            x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
        else:
            raise InvalidParameterError(
                f"{images!r} must hold arrays 'x' and 'y', or {list(KERAS_KEYS)}; "
                f"it holds {sorted(arrays)}"
            )
        where = images
    else:
        if labels is None:
            raise InvalidParameterError(
                f"{images!r} is read as IDX images; pass the matching labels file, e.g. "
                "load_mnist('train-images-idx3-ubyte', 'train-labels-idx1-ubyte')"
            )
        labels = os.fspath(_existing(labels, any_suffix=True))
        x = _read_idx(images, IDX_IMAGES_MAGIC)
        y = _read_idx(labels, IDX_LABELS_MAGIC)
        where = f"{images!r} and {labels!r}"
    x = _pixels(x, f"the images of {where}")
    y = _labels(y, f"the labels of {where}")
    _rows_match(x, y, where)
    if y.dtype != np.int64:
        raise InvalidParameterError(
            f"the labels of {where} must be integers; found non-integer values"
        )
    return x, y


def load_table(
    path: str | os.PathLike[str],
    *,
    x: str | Sequence[str] | None = None,
    y: str = "y",
    y_labels: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a feature table with one target from an ``.npz`` or ``.csv`` file.

    Parameters
    ----------
    path : str or path-like
        ``.npz``: an archive with input array(s) and a 1-D target array.
        ``.csv``: a table with a header row, a first line of mostly names (read as
        :func:`ibkit._io.read_samples` reads samples for the command line).
    x : str, sequence of str or None
        The input array(s) (``.npz``, default ``"x"``) or column(s) (``.csv``, default:
        every column but ``y``); several are stacked side by side.
    y : str
        The name of the target array (``.npz``) or column (``.csv``).
    y_labels : bool
        Read the target as class labels whatever its values (text or numbers), coded
        0..k−1 in sorted order.

    Returns
    -------
    x : ndarray of float64, shape (n, d)
        The inputs, one sample per row (a 1-D input becomes one column).
    y : ndarray, shape (n,)
        int64 class labels when every target value is a whole number, or when the
        target is text (at most half of its non-empty cells are numbers; coded 0..k−1 in
        sorted order), else float64.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        If ``path`` does not exist, or is a directory.
    ValueError
        If the extension is not one of :data:`TABLE_FORMATS`, a named array or column
        is missing, values are not real numbers (or not finite), a target of numbers
        has a few cells of text (the message names the line), or the row counts differ.

    Examples
    --------
    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "toy.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("a,b,label\\n0.5,1,0\\n1.5,2,1\\n")
    ...     x, y = load_table(path, y="label")
    >>> x, y
    (array([[0.5, 1. ],
           [1.5, 2. ]]), array([0, 1]))
    """
    if x is None and os.fspath(path).lower().endswith(".npz"):
        x = "x"  # without x, a csv's inputs are every column but y
    x_names = [x] if isinstance(x, str) else x
    x_values, y_values = read_samples(path, x_names, [y], y_labels=y_labels)
    if y_values.ndim != 1:
        raise InvalidParameterError(f"{path}: {y!r} must be one column or a 1-D array of targets")
    return check_array(x_values, f"x of {path}", ndim=2), y_values
