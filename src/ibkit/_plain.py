"""Plain Python values from results: what ``to_dict()`` returns and the CLI prints as JSON.

>>> import numpy as np
>>> plain({"i": np.float64(0.5), "betas": np.array([1.0, np.inf])})
{'i': 0.5, 'betas': [1.0, inf]}
>>> plain({"betas": np.array([1.0, np.inf])}, finite=True)
{'betas': [1.0, None]}
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plain"]


def plain(value: Any, *, finite: bool = False) -> Any:
    """``value`` with numpy arrays and scalars, tuples and paths made plain Python.

    Parameters
    ----------
    value : Any
        A number, string, array, path, or a dict, list or tuple of them (nested).
    finite : bool
        Replace NaN and ±inf by ``None``, as JSON has no such numbers.

    Returns
    -------
    Any
        Arrays and tuples as (nested) lists, numpy scalars as Python numbers, paths as
        strings, dict keys as strings; other values unchanged.
    """
    if isinstance(value, dict):
        return {str(k): plain(v, finite=finite) for k, v in value.items()}
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [plain(v, finite=finite) for v in value]
    if isinstance(value, Path):
        return str(value)
    if finite and isinstance(value, float) and not math.isfinite(value):
        return None
    return value
