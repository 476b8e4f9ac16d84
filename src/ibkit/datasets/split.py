r"""A shuffled, seeded, optionally stratified train/test split with exact sizes.

The training set holds :math:`n_\text{train} = \lfloor p\,n + \tfrac12 \rfloor` rows
(``train_size`` :math:`p` times the :math:`n` rows, rounded to the nearest integer, halves
up) and the test set the other :math:`n - n_\text{train}`. The rows are always shuffled:
taking the first rows of a file ordered by input (the 12-bit task is stored in counting
order) would train on one region of the input space and test on another. With
``stratify=True`` each class :math:`c` with :math:`n_c` rows puts
:math:`p\,n_c` rows into the training set, to within one row (scikit-learn's
``StratifiedShuffleSplit``).

Examples
--------
>>> from ibkit.datasets import tishby_12bit
>>> task = tishby_12bit()
>>> s = train_test_split(task.x, task.y, 0.85, random_state=0)
>>> s.x_train.shape, s.x_test.shape
((3482, 12), (614, 12))
>>> bool((s.x_train == task.x[s.train_index]).all())
True
"""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ibkit._plain import plain
from ibkit._validation import (
    InvalidParameterError,
    check_bool,
    check_random_state,
    check_real,
    optional_module,
)

__all__ = ["Split", "train_test_split"]


@dataclass(frozen=True, eq=False)
class Split:
    """The two parts of a train/test split and the rows they came from.

    Attributes
    ----------
    x_train, y_train : ndarray
        The training rows, ``x[train_index]`` and ``y[train_index]``.
    x_test, y_test : ndarray
        The test rows, ``x[test_index]`` and ``y[test_index]``.
    train_index, test_index : ndarray of int64
        Disjoint row indices into the original arrays that together cover every row, in
        shuffled order.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """All fields as plain Python values (arrays as nested lists)."""
        return plain(asdict(self))


def _check_stratifiable(y: np.ndarray, n_train: int, n_test: int) -> None:
    """Raise ``ValueError`` unless every class can appear in both parts of the split."""
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        rare = classes[counts < 2].tolist()
        raise InvalidParameterError(
            f"stratify=True needs at least 2 rows of every class; classes {rare} have one "
            "row; pass stratify=False or drop those rows"
        )
    if min(n_train, n_test) < classes.size:
        raise InvalidParameterError(
            f"stratify=True needs at least one row of each of the {classes.size} classes "
            f"in both parts, but the split has {n_train} training and {n_test} test rows; "
            "move train_size towards 0.5 or pass stratify=False"
        )


def train_test_split(
    x: Any,
    y: Any,
    train_size: float = 0.8,
    *,
    random_state: int | np.random.Generator | None = 0,
    stratify: bool = True,
) -> Split:
    r"""Shuffle the rows of ``(x, y)`` and split them into a training and a test set.

    Parameters
    ----------
    x : array_like, shape (n, ...)
        The inputs, one sample per row (any real dtype and trailing shape).
    y : array_like, shape (n,)
        The targets; with ``stratify=True`` their distinct values are the classes.
    train_size : float
        Fraction :math:`p \in (0, 1)` of the rows that go into the training set; it holds
        :math:`\lfloor p\,n + \tfrac12 \rfloor` rows.
    random_state : int, numpy Generator or None
        Seed of the shuffle; the same seed gives the same split.
    stratify : bool
        Keep the class proportions of ``y`` in both parts (to within one row per class).

    Returns
    -------
    Split
        ``x_train, y_train, x_test, y_test`` and the row indices ``train_index``,
        ``test_index``.

    Raises
    ------
    ValueError
        If ``train_size`` is not a number in (0, 1) or leaves a part empty, ``x`` or
        ``y`` is complex, they disagree in length, ``y`` is not 1-D, ``stratify`` is not
        a bool, or (with ``stratify=True``) a class has fewer than 2 rows or a part is
        smaller than the number of classes.
    ImportError
        If scikit-learn is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0] * 6 + [1] * 4)
    >>> s = train_test_split(np.arange(10), y, 0.5, random_state=1)
    >>> np.bincount(s.y_train), np.bincount(s.y_test)
    (array([3, 2]), array([3, 2]))
    """
    if (
        isinstance(train_size, bool)
        or not isinstance(train_size, numbers.Real)
        or not 0.0 < float(train_size) < 1.0
    ):
        raise InvalidParameterError(
            f"train_size must be a fraction strictly between 0 and 1; got {train_size!r}"
        )
    stratify = check_bool(stratify, "stratify")
    x = np.asarray(check_real(x, "x"))
    y = np.asarray(check_real(y, "y"))
    if y.ndim != 1:
        raise InvalidParameterError(f"y must be 1-D, one target per row of x; got shape {y.shape}")
    n = y.shape[0]
    if x.ndim == 0 or x.shape[0] != n:
        raise InvalidParameterError(
            f"x and y must have the same number of rows; got x of shape {x.shape} and {n} targets"
        )
    n_train = int(np.floor(float(train_size) * n + 0.5))
    n_test = n - n_train
    if n_train == 0 or n_test == 0:
        raise InvalidParameterError(
            f"train_size={train_size!r} of {n} rows leaves {n_train} training and "
            f"{n_test} test rows; both parts need at least one row"
        )
    if stratify:
        _check_stratifiable(y, n_train, n_test)
    seed = int(check_random_state(random_state).integers(2**32 - 1))
    model_selection = optional_module("sklearn.model_selection", "train_test_split", "torch")
    train_index, test_index = model_selection.train_test_split(
        np.arange(n, dtype=np.int64),
        train_size=n_train,
        test_size=n_test,
        random_state=seed,
        shuffle=True,
        stratify=y if stratify else None,
    )
    return Split(
        x[train_index], y[train_index], x[test_index], y[test_index], train_index, test_index
    )
