"""Read user files: joint tables p(x,y) and sample columns, from ``.csv`` or ``.npz``.

Used by the command line, the sweep jobs and :mod:`ibkit.datasets.files`. A CSV table
may carry a header row and an index column; both are recognised because their cells are
not numbers (or, as pandas writes them, because the top-left cell is empty), and
dropped. Everything left must be numeric. Errors are :class:`ValueError` naming the
file, the place and what was expected; a missing file is :class:`FileNotFoundError`.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError

__all__ = ["parse_columns", "read_joint", "read_samples"]

#: npz keys tried, in order, for a joint table.
JOINT_KEYS = ("p_xy", "counts")

PathLike = str | os.PathLike[str]


def read_joint(path: PathLike, *, labels: bool = False) -> np.ndarray:
    """A joint table (probabilities or counts) of shape (|X|, |Y|) from a file.

    Parameters
    ----------
    path : str or path-like
        ``.csv``: a numeric matrix, with an optional header row and index column.
        ``.npz``: the array under ``p_xy`` or ``counts``, or the only array.
    labels : bool
        Read instead a two-column ``.csv`` of paired labels (a header row, then one
        ``x label, y label`` row per sample) and return the counts of each pair, rows
        and columns in sorted label order (the empirical joint, unnormalised).

    Returns
    -------
    ndarray of float64
        Not normalised and not validated beyond being numeric; pass it to a solver
        with ``normalize=True``.
    """
    path = _existing(path)
    if labels:
        return _label_counts(path)
    if path.suffix.lower() == ".npz":
        arrays = _read_npz(path)
        keys = list(arrays)
        key = next((k for k in JOINT_KEYS if k in keys), keys[0] if len(keys) == 1 else None)
        if key is None:
            raise InvalidParameterError(
                f"{path}: holds arrays {', '.join(keys) or '(none)'}; expected one array, "
                f"or one named {' or '.join(JOINT_KEYS)}"
            )
        return _numeric(arrays[key], f"{path}[{key}]")
    return _csv_matrix(path)


def read_samples(
    path: PathLike, x: Sequence[str] | None, y: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of columns of a ``.csv`` or arrays of an ``.npz``, as paired samples.

    Parameters
    ----------
    path : str or path-like
        ``.csv`` with one sample per row (and an optional header row), or ``.npz``
        whose arrays have one sample per row.
    x, y : sequence of str
        Column names (or 0-based positions) of a CSV, or array names of an npz.
        ``x=None`` takes every column (or array) not named in ``y``.

    Returns
    -------
    x, y : ndarray
        ``x`` is float64 of shape (n, d_x). ``y`` is float64 (n, d_y) for several
        columns; one column is 1-D: integer labels when its values are whole numbers
        or text (text is coded 0..k−1 in sorted order), float64 otherwise.
    """
    path = _existing(path)
    if path.suffix.lower() == ".npz":
        source, what = _read_npz(path), "array"
    else:
        source, what = _csv_columns(path), "column"
    if x is None:
        x = [name for name in source if name not in y]
    xs = _pick(source, x, path, what)
    ys = _pick(source, y, path, what)
    x_arr = np.column_stack([_numeric(a, f"{path}: x {name!r}") for name, a in xs])
    if len(ys) == 1 and np.asarray(ys[0][1]).ndim == 1:
        y_arr = _label_or_values(*ys[0], path)
    else:
        y_arr = np.column_stack([_numeric(a, f"{path}: y {name!r}") for name, a in ys])
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
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InvalidParameterError(
            f"{path}: not a readable .npz archive of arrays ({exc})"
        ) from None


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
    blank_corner = text[0, 0].strip() == ""
    has_header = not numeric[0].all()
    rows = slice(1, None) if has_header else slice(None)
    has_index = (has_header and blank_corner) or not numeric[rows, 0].all()
    cols = slice(1, None) if has_index else slice(None)
    body, ok = values[rows, cols], numeric[rows, cols]
    if body.size == 0:
        raise InvalidParameterError(
            f"{path}: no numeric rows or columns; expected a matrix of numbers"
        )
    if not ok.all():
        r, c = np.argwhere(~ok)[0]
        line, col = r + 1 + has_header, c + 1 + has_index
        cell = str(text[rows, cols][r, c])
        raise InvalidParameterError(f"{path}: line {line}, column {col}: {cell!r} is not a number")
    return body


def _csv_columns(path: Path) -> dict[str, np.ndarray]:
    """Columns of a CSV of samples, keyed by header name (or position, without header)."""
    import pandas as pd

    text = _read_csv(path, header=None).to_numpy(dtype=str)
    first = pd.to_numeric(pd.Series(text[0]), errors="coerce")
    if first.isna().any():
        names, body = [str(h) for h in text[0]], text[1:]
    else:
        names, body = [str(i) for i in range(text.shape[1])], text
    if len(body) == 0:
        raise InvalidParameterError(f"{path}: has a header but no rows of samples")
    return {name: body[:, j] for j, name in enumerate(names)}


def _pick(
    source: dict[str, np.ndarray], wanted: Sequence[str], path: Path, what: str
) -> list[tuple[str, np.ndarray]]:
    names = list(source)
    picked = []
    for name in wanted:
        if name in source:
            picked.append((name, source[name]))
        elif what == "column" and name.isdigit() and int(name) < len(names):
            picked.append((name, source[names[int(name)]]))
        else:
            raise InvalidParameterError(
                f"{path}: no {what} {name!r}; {what}s are: {', '.join(names)}"
            )
    lengths = {len(a) for _, a in picked}
    if len(lengths) > 1:
        raise InvalidParameterError(
            f"{path}: the {what}s have different numbers of rows: {sorted(lengths)}"
        )
    return picked


def _numeric(values: Any, where: str) -> np.ndarray:
    """Values as float64, with the first non-number named."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    import pandas as pd

    flat = arr.reshape(-1)
    parsed = pd.to_numeric(pd.Series(flat), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(parsed) & (np.char.strip(flat.astype(str)) != "nan")
    if bad.any():
        i = int(np.argmax(bad))
        raise InvalidParameterError(f"{where}: row {i + 1}: {str(flat[i])!r} is not a number")
    return parsed.reshape(arr.shape)


def _label_or_values(name: str, values: np.ndarray, path: Path) -> np.ndarray:
    """One y column: integer labels (whole numbers or text) or float values."""
    import pandas as pd

    arr = np.asarray(values)
    if arr.dtype.kind in "biu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        return arr
    parsed = pd.to_numeric(pd.Series(arr), errors="coerce")
    if parsed.notna().all():
        floats = parsed.to_numpy(dtype=float)
        whole = np.all(floats == np.round(floats))
        return floats.astype(np.int64) if whole else floats
    if np.any(np.char.strip(arr.astype(str)) == ""):
        raise InvalidParameterError(
            f"{path}: column {name!r} has empty cells; expected one label per row"
        )
    return np.unique(arr, return_inverse=True)[1].reshape(-1).astype(np.int64)


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
