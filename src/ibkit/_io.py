"""Read user files: joint tables p(x,y) and sample columns, from ``.csv`` or ``.npz``.

Used by the command line, the sweep jobs and :mod:`ibkit.datasets.files`. A CSV table
may carry a header row and an index column; both are recognised because most of their
cells are not numbers (or, as pandas writes them, because the top-left cell is empty),
and dropped. A first line of mostly numbers is data, so a typo in it is an error, not a
header. Everything left must be numeric and real. Errors are
:class:`~ibkit._validation.InvalidParameterError` (a :class:`ValueError`) naming the
file, the column or array, the line (or index) and the value; a missing file is
:class:`FileNotFoundError` and a directory :class:`IsADirectoryError`.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "joint.csv"
>>> _ = path.write_text("x,y0,y1\\na,3,1\\nb,1,3\\n")
>>> read_joint(path)
array([[3., 1.],
       [1., 3.]])
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError, check_bool

__all__ = ["parse_columns", "read_joint", "read_samples"]

#: npz keys tried, in order, for a joint table.
JOINT_KEYS = ("p_xy", "counts")

PathLike = str | os.PathLike[str]


def read_joint(path: PathLike, *, labels: bool | None = None) -> np.ndarray:
    """A joint table (probabilities or counts) of shape (|X|, |Y|) from a file.

    Parameters
    ----------
    path : str or path-like
        ``.csv``: a numeric matrix, with an optional header row and index column.
        ``.npz``: the array under ``p_xy`` or ``counts``, or the only array.
    labels : bool or None
        ``True``: read instead a two-column ``.csv`` of paired labels (a header row,
        then one ``x label, y label`` row per sample) and return the counts of each
        pair, rows and columns in sorted label order (the empirical joint,
        unnormalised). ``False``: read a table, whatever it looks like. ``None`` (the
        default): read a table, but refuse a ``.csv`` that looks like paired labels:
        two columns of whole numbers in which at least half of the rows repeat an
        earlier row (a joint table's rows are distinct values of X, so its rows rarely
        repeat, and a table of probabilities is not whole numbers). A table of counts
        in which y is a function of x (rows ``1, 0`` and ``0, 1`` only) looks the same
        and is refused too: pass ``False`` for it.

    Returns
    -------
    ndarray of float64
        Not normalised and not validated beyond being real numbers; pass it to a
        solver with ``normalize=True``.
    """
    path = _existing(path)
    if labels is not None:
        labels = check_bool(labels, "labels")
    if labels:
        return _label_counts(path)
    if path.suffix.lower() == ".npz":
        arrays = _npz_columns(path)
        keys = list(arrays.data)
        key = next((k for k in JOINT_KEYS if k in keys), keys[0] if len(keys) == 1 else None)
        if key is None:
            raise InvalidParameterError(
                f"{path}: holds arrays {', '.join(keys) or '(none)'}; expected one array, "
                f"or one named {' or '.join(JOINT_KEYS)}"
            )
        return arrays.numbers(key)
    table = _csv_matrix(path)
    if labels is None and _looks_like_pairs(table):
        raise InvalidParameterError(
            f"{path}: looks like (x label, y label) pairs, one sample per row: two columns "
            f"of whole numbers, {len(table)} rows but only {len(np.unique(table, axis=0))} "
            "distinct; a joint table of counts in which y is a function of x (rows such as "
            "1,0 and 0,1) looks the same. Pass --table (labels=False) to read it as a joint "
            "table, or --labels (labels=True) to count the pairs"
        )
    return table


def read_samples(
    path: PathLike, x: Sequence[str] | None, y: Sequence[str], *, y_labels: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of columns of a ``.csv`` or arrays of an ``.npz``, as paired samples.

    Parameters
    ----------
    path : str or path-like
        ``.csv`` with one sample per row (and an optional header row), or ``.npz``
        whose arrays have one sample per row.
    x, y : sequence of str
        Column names (or 0-based positions) of a CSV, or array names of an npz.
        ``x=None`` takes every column (or array) not named in ``y``. A CSV has a header
        row when most cells of its first line are not numbers; there, a name wins over
        a position (``"1"`` is the column named ``1`` if there is one, else the second
        column). Without a header row the columns are named ``"0"``, ``"1"``, ... by
        position only.
    y_labels : bool
        Read the one ``y`` column as class labels whatever its values (text or
        numbers), coded 0..k−1 in sorted order.

    Returns
    -------
    x, y : ndarray
        ``x`` is float64 of shape (n, d_x). ``y`` is float64 (n, d_y) for several
        columns; one column is 1-D: integer labels when its values are whole numbers,
        or text in a column where at most half of the non-empty cells are numbers
        (text is coded 0..k−1 in sorted order), float64 otherwise. A column of numbers
        with a few cells of text or empty cells is an error naming the first such cell:
        a typo, not labels.
    """
    path = _existing(path)
    y_labels = check_bool(y_labels, "y_labels")
    source = _npz_columns(path) if path.suffix.lower() == ".npz" else _csv_columns(path)
    if x is None:
        x = [name for name in source.data if name not in y]
    x_names, y_names = source.pick(x), source.pick(y)
    x_arr = np.column_stack([source.numbers(name) for name in x_names])
    single = len(y_names) == 1 and source.data[y_names[0]].ndim == 1
    if y_labels and not single:
        raise InvalidParameterError(
            f"{path}: y_labels (--y-labels) reads one 1-D y column as class labels; got y={list(y)}"
        )
    if y_labels:
        y_arr = source.codes(y_names[0])
    elif single:
        y_arr = source.labels_or_values(y_names[0])
    else:
        y_arr = np.column_stack([source.numbers(name) for name in y_names])
    if len(x_arr) != len(y_arr):
        raise InvalidParameterError(
            f"{path}: x has {len(x_arr)} rows but y has {len(y_arr)}; pass one y per sample"
        )
    return x_arr, y_arr


def parse_columns(spec: str) -> list[str]:
    """Split a comma-separated list of column names (``"a,b"`` → ``["a", "b"]``)."""
    names = [part.strip() for part in spec.split(",")]
    if not spec.strip() or any(not n for n in names):
        raise InvalidParameterError(
            f"expected comma-separated column names such as 'x0,x1'; got {spec!r}"
        )
    return names


# --------------------------------------------------------------------------- helpers


def _existing(path: PathLike, *, any_suffix: bool = False) -> Path:
    """``path`` as a Path if it is a file (a ``.csv`` or ``.npz`` unless ``any_suffix``)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a directory; pass the path of a file")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if not any_suffix and path.suffix.lower() not in (".csv", ".npz"):
        raise InvalidParameterError(
            f"{path}: expected a .csv or .npz file; got {path.suffix or 'no suffix'!r}"
        )
    return path


def _read_npz(path: PathLike) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` archive (no pickled objects), by name in file order."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise InvalidParameterError(
                "it holds a single array (a .npy file); save with numpy.savez"
            )
        with archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        reason = str(exc) or f"{type(exc).__name__}: the file is empty or truncated"
        raise InvalidParameterError(
            f"{path}: not a readable .npz archive of arrays ({reason})"
        ) from None
    other = [key for key, value in arrays.items() if not isinstance(value, np.ndarray)]
    if other:
        raise InvalidParameterError(
            f"{path}: holds {other[0]!r}, which is not a .npy array; save the arrays with "
            "numpy.savez"
        )
    return arrays


def _read_csv(path: Path, **kwargs: Any) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise InvalidParameterError(f"{path}: not a readable CSV table ({reason})") from None


def _csv_matrix(path: Path) -> np.ndarray:
    """The numeric body of a CSV matrix, without its header row and index column."""
    import pandas as pd

    text = _read_csv(path, header=None).to_numpy(dtype=str)
    values = pd.DataFrame(text).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    numeric = ~np.isnan(values)
    has_header, has_index = _header_and_index(text[0, 0], numeric)
    rows, cols = slice(int(has_header), None), slice(int(has_index), None)
    body, ok = values[rows, cols], numeric[rows, cols]
    if body.size == 0:
        raise InvalidParameterError(
            f"{path}: no numeric rows or columns; expected a matrix of numbers"
        )
    if not ok.all():
        r, c = np.argwhere(~ok)[0]
        line, col = r + 1 + has_header, c + 1 + has_index
        cell = str(text[rows, cols][r, c])
        note = " (line 1 is read as numbers: a header is a line of mostly names)"
        raise InvalidParameterError(
            f"{path}: line {line}, column {col}: {cell!r} is not a number"
            + (note if line == 1 else "")
        )
    return body


def _header_and_index(corner: str, numeric: np.ndarray) -> tuple[bool, bool]:
    """Whether a CSV matrix has a header row and an index column.

    ``numeric`` tells which cells are numbers and ``corner`` is the top-left cell. An
    empty corner (as pandas writes it) means both. Otherwise column 0 is an index when
    most of its cells below line 1 are not numbers, and line 1 is a header when most of
    its cells (right of the index) are not numbers while the lines below are not mostly
    text, or when its cells right of an index are numbers under a corner of text (a
    table written by pandas, ``pd.crosstab(x, y).to_csv()``). A line 1 of mostly numbers
    with a bad cell is thus data, and the bad cell an error.
    """
    if corner.strip() == "":
        return True, True
    has_index = _mostly(~numeric[1:, 0])
    first = int(has_index)
    names = ~numeric[0, first:]
    named = _mostly(names) and not _mostly(~numeric[1:, first:])
    crosstab = has_index and not numeric[0, 0] and not names.any()
    return named or crosstab, has_index


def _mostly(flags: np.ndarray) -> bool:
    """Whether more than half of ``flags`` are true (``False`` when there are none)."""
    return 2 * int(np.count_nonzero(flags)) > flags.size


def _looks_like_pairs(table: np.ndarray) -> bool:
    """Whether a two-column table of whole numbers repeats at least half of its rows."""
    if table.shape[1] != 2 or not np.array_equal(table, np.round(table)):
        return False
    return 2 * len(np.unique(table, axis=0)) <= len(table)


@dataclass(frozen=True)
class _Columns:
    """Named columns of a CSV (or arrays of an npz), read as numbers or labels.

    ``first_line`` is the CSV line of the first sample (2 after a header row), so that
    a bad cell is named by its line; it is ``None`` for an npz, whose cells are named
    by their index.
    """

    path: Path
    data: dict[str, np.ndarray]
    first_line: int | None = None

    @property
    def what(self) -> str:
        """What the file's columns are called in messages."""
        return "array" if self.first_line is None else "column"

    @property
    def _unnamed(self) -> str:
        """Why the columns of a CSV without a header row are positions, for messages."""
        if self.first_line != 1:
            return ""
        return " (by position: line 1 is not a header, as half or more of its cells are numbers)"

    def pick(self, wanted: Sequence[str]) -> list[str]:
        """The names of ``wanted``: a name first, else a CSV column's 0-based position.

        Without a header row the columns are named by their positions, so a digit
        string is only ever a position there.
        """
        names = list(self.data)
        picked = []
        for name in wanted:
            if name in self.data:
                picked.append(name)
            elif self.first_line is not None and name.isdigit() and int(name) < len(names):
                picked.append(names[int(name)])
            else:
                raise InvalidParameterError(
                    f"{self.path}: no {self.what} {name!r}; {self.what}s are: "
                    f"{', '.join(names)}{self._unnamed}"
                )
        lengths = {len(self.data[name]) for name in picked}
        if len(lengths) > 1:
            raise InvalidParameterError(
                f"{self.path}: the {self.what}s have different numbers of rows: {sorted(lengths)}"
            )
        return picked

    def numbers(self, name: str) -> np.ndarray:
        """Column ``name`` as float64 (``"nan"`` cells as NaN); a non-number is an error."""
        arr = self._real(name)
        if arr.dtype.kind in "biuf":
            return arr.astype(np.float64)
        parsed = _parse(arr)
        bad = np.isnan(parsed) & (np.char.strip(arr.astype(str)) != "nan")
        if bad.any():
            index = np.unravel_index(int(np.argmax(bad)), arr.shape)
            raise InvalidParameterError(
                f"{self._cell(name, index)}: {str(arr[index])!r} is not a number"
            )
        return parsed

    def labels_or_values(self, name: str) -> np.ndarray:
        """A 1-D column: int64 labels (whole numbers or text) or float64 values."""
        arr = self._real(name)
        if arr.dtype.kind in "biu":
            return arr.astype(np.int64)
        if arr.dtype.kind == "f":
            return arr
        parsed = _parse(arr)
        numeric = ~np.isnan(parsed)
        if numeric.all():
            whole = np.array_equal(parsed, np.round(parsed))
            return parsed.astype(np.int64) if whole else parsed
        filled = np.char.strip(arr.astype(str)) != ""
        if 2 * numeric.sum() > filled.sum():  # mostly numbers: the rest are typos or blanks
            i = int(np.argmin(numeric))
            raise InvalidParameterError(
                f"{self._cell(name, (i,))}: {str(arr[i])!r} is not a number, though "
                f"{int(numeric.sum())} of the {numeric.size} values are; correct it, or "
                "read the column as class labels (y_labels=True, --y-labels)"
            )
        return self.codes(name)

    def codes(self, name: str) -> np.ndarray:
        """A 1-D column's values as int64 class labels 0..k−1, in sorted order."""
        arr = self._real(name)
        if arr.dtype.kind == "U" and (blank := np.char.strip(arr) == "").any():
            raise InvalidParameterError(
                f"{self._cell(name, (int(np.argmax(blank)),))} is empty; expected one label per row"
            )
        return np.unique(arr, return_inverse=True)[1].reshape(-1).astype(np.int64)

    def _real(self, name: str) -> np.ndarray:
        arr = np.asarray(self.data[name])
        if arr.dtype.kind == "c":
            raise InvalidParameterError(
                f"{self.path}: {self.what} {name!r} is complex; store real numbers "
                "(e.g. the absolute value or the real part, deliberately)"
            )
        return arr

    def _cell(self, name: str, index: tuple[int, ...]) -> str:
        """Where a cell is: ``file: column 'y', line 7`` or ``file: array 'y'[3, 1]``."""
        if self.first_line is None:
            return f"{self.path}: {self.what} {name!r}[{', '.join(map(str, index))}]"
        return f"{self.path}: {self.what} {name!r}, line {self.first_line + index[0]}"


def _parse(arr: np.ndarray) -> np.ndarray:
    """Text cells as float64, NaN where a cell is not a number."""
    import pandas as pd

    flat = pd.to_numeric(pd.Series(arr.reshape(-1)), errors="coerce").to_numpy(dtype=float)
    return flat.reshape(arr.shape)


def _npz_columns(path: Path) -> _Columns:
    return _Columns(path, _read_npz(path))


def _csv_columns(path: Path) -> _Columns:
    """Columns of a CSV of samples, keyed by header name (or position, without header).

    Line 1 is a header when most of its cells are not numbers.
    """
    text = _read_csv(path, header=None).to_numpy(dtype=str)
    has_header = _mostly(np.isnan(_parse(text[0])))
    if has_header:
        names, body = [str(h) for h in text[0]], text[1:]
    else:
        names, body = [str(i) for i in range(text.shape[1])], text
    if len(body) == 0:
        raise InvalidParameterError(f"{path}: has a header but no rows of samples")
    columns = {name: body[:, j] for j, name in enumerate(names)}
    return _Columns(path, columns, first_line=2 if has_header else 1)


def _label_counts(path: Path) -> np.ndarray:
    import pandas as pd

    if path.suffix.lower() != ".csv":
        raise InvalidParameterError(f"{path}: --labels reads a two-column .csv of (x, y) labels")
    frame = _read_csv(path)
    if frame.shape[1] != 2:
        raise InvalidParameterError(
            f"{path}: expected two columns (x label, y label) after a header row; got "
            f"{frame.shape[1]}: {', '.join(map(str, frame.columns))}"
        )
    if len(frame) == 0:
        raise InvalidParameterError(f"{path}: has a header but no rows of labels")
    empty = (frame.apply(lambda col: col.str.strip()) == "").to_numpy()
    if empty.any():
        line = int(np.argwhere(empty)[0][0]) + 2
        raise InvalidParameterError(
            f"{path}: line {line} has an empty label; expected x and y on every row"
        )
    counts = pd.crosstab(frame.iloc[:, 0], frame.iloc[:, 1])
    return counts.to_numpy(dtype=np.float64)
