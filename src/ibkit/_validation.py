"""Validation at the public edge.

Every public function of ibkit checks its arguments here once and raises
:class:`InvalidParameterError` (a :class:`ValueError` and a :class:`TypeError`, as in
scikit-learn) with a message that names the parameter, the constraint and the value
received. Internal functions trust their inputs.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

UNITS = ("bits", "nats")

#: Relative tolerance for "sums to 1" checks on probability arrays.
SUM_TOL = 1e-6

#: The progress callback of every long loop (annealing, training, sweeps, the demo):
#: ``progress(done, total)`` with the steps finished so far and the steps in all.
Progress = Callable[[int, int], None]

#: The status-message callback of the long runs that print what they are doing (the
#: information-plane study, the demo): ``say(message)`` with one line of text.
Say = Callable[[str], None]


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at ``max_iter`` before meeting ``tol``."""


class InvalidParameterError(ValueError, TypeError):
    """A parameter or input of an ibkit function is invalid (wrong type, shape or value).

    It is both a :class:`ValueError` and a :class:`TypeError`, so ``except ValueError``
    and ``except TypeError`` both catch it, as with scikit-learn's error of that name.
    """


class DivergenceError(ArithmeticError):
    """A training loop or an iterative estimate produced a non-finite value.

    The message names the knob to change (learning rate, β, input scale).
    """


def check_units(units: str) -> str:
    """Return ``units`` if it is ``"bits"`` or ``"nats"``, else raise ``ValueError``."""
    if not isinstance(units, str) or units not in UNITS:
        raise InvalidParameterError(f"units must be 'bits' or 'nats'; got {units!r}")
    return units


def from_nats(value_nats: Any, units: str) -> Any:
    """Convert a quantity in nats to ``units`` (``"bits"`` divides by ln 2)."""
    return value_nats / np.log(2.0) if units == "bits" else value_nats


def check_array(
    a: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    dtype: type = np.float64,
) -> np.ndarray:
    """Convert ``a`` to a finite float array of the expected dimensionality.

    Complex input is refused (numpy would silently keep the real part), as are strings,
    objects and booleans mixed with numbers that do not convert.
    """
    check_real(a, name)
    try:
        arr = np.asarray(a, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"{name} must be a numeric array; got {type(a).__name__}: {exc}"
        ) from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise InvalidParameterError(f"{name} must be {want}; got an array of shape {arr.shape}")
    if arr.size == 0:
        raise InvalidParameterError(f"{name} is empty (shape {arr.shape}); pass at least one entry")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InvalidParameterError(
            f"{name} has {int(bad.sum())} NaN or infinite entries; pass finite numbers"
        )
    return arr


def check_real(a: Any, name: str) -> Any:
    """Return ``a`` unless it is, or holds, complex numbers (arrays, lists, tensors).

    numpy would otherwise keep the real part without a word. :func:`check_array` calls
    it; call it directly for inputs that keep their own dtype (labels, for example).
    """
    if _is_complex(a):
        raise InvalidParameterError(
            f"{name} is complex; pass real numbers (e.g. np.abs(a) or a.real, deliberately)"
        )
    return a


def check_probabilities(
    p: Any,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    normalize: bool = False,
) -> np.ndarray:
    """Validate a probability array (any shape): finite, ≥ 0, nonzero, summing to 1.

    With ``normalize=True`` any non-negative array with positive total (counts, for
    example) is divided by its total instead of being required to sum to 1.
    """
    normalize = check_bool(normalize, "normalize")
    arr = check_array(p, name, ndim=ndim)
    neg = arr < 0
    if neg.any():
        raise InvalidParameterError(
            f"{name} has {int(neg.sum())} negative entries (min {arr.min():.3g}); "
            "pass counts or probabilities >= 0"
        )
    total = arr.sum()
    if not np.isfinite(total):
        raise InvalidParameterError(
            f"{name} sums to infinity; divide the counts by a common factor"
        )
    if total <= 0:
        raise InvalidParameterError(f"{name} is all zeros; it needs positive mass somewhere")
    if normalize:
        return arr / total
    if abs(total - 1.0) > SUM_TOL:
        raise InvalidParameterError(
            f"{name} sums to {total:.6g}, not 1; pass probabilities or set normalize=True"
        )
    return arr / total


def check_confidence(value: Any) -> float:
    """A confidence level strictly between 0 and 1 (of an interval), as a float."""
    if isinstance(value, bool) or not (isinstance(value, numbers.Real) and 0.0 < value < 1.0):
        raise InvalidParameterError(
            f"confidence must be a number strictly between 0 and 1; got {value!r}"
        )
    return float(value)


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is a finite number > 0 (or ≥ 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{name} must be a real number; got {value!r}")
    v = float(value)
    ok = np.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(f"{name} must be a finite number {bound}; got {value!r}")
    return v


def check_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer >= ``minimum`` (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a bool (or numpy bool); strings such as ``"no"`` are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def check_callback(value: Any, name: str) -> Any:
    """Return ``value`` if it is ``None`` or callable."""
    if value is not None and not callable(value):
        raise InvalidParameterError(
            f"{name} must be None or a callable; got {type(value).__name__}: {value!r}"
        )
    return value


def _is_complex(a: Any) -> bool:
    """Whether ``a`` is, or holds, complex numbers.

    Arrays, tensors and data frames answer from their dtypes, whatever their size;
    anything else (lists, scalars, pandas extension types, object arrays) is read by
    numpy, and its values are looked at one by one only when numpy holds Python objects.
    """
    kinds = _dtype_kinds(a)
    if kinds is not None:
        return "c" in kinds
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError, RuntimeError):
        return False
    if arr.dtype.kind == "O":
        return any(isinstance(v, complex | np.complexfloating) for v in arr.flat)
    return arr.dtype.kind == "c"


def _dtype_kinds(a: Any) -> set[str] | None:
    """The numpy dtype kinds that ``a`` declares, or None when its dtypes do not tell.

    A numpy array or a pandas Series gives its dtype's kind, a DataFrame those of its
    columns, a torch tensor ``"c"`` or ``"f"``; an object dtype, which may hold anything,
    tells nothing.
    """
    dtype = getattr(a, "dtype", None)
    is_complex = getattr(dtype, "is_complex", None)
    if isinstance(is_complex, bool):  # a torch dtype
        return {"c" if is_complex else "f"}
    if isinstance(dtype, np.dtype):
        declared = [dtype]
    else:  # a DataFrame lists one dtype per column
        columns = getattr(getattr(a, "dtypes", None), "values", None)
        declared = list(columns) if isinstance(columns, np.ndarray) else []
    if declared and all(isinstance(d, np.dtype) and d.kind != "O" for d in declared):
        return {d.kind for d in declared}
    return None


def check_random_state(random_state: Any) -> np.random.Generator:
    """Turn ``None``, an int, a ``SeedSequence`` or a ``Generator`` into a ``Generator``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise InvalidParameterError(
                f"random_state must be a non-negative int; got {random_state!r}"
            )
        return np.random.default_rng(random_state)
    raise InvalidParameterError(
        "random_state must be None, a non-negative int, a numpy SeedSequence or Generator; "
        f"got {type(random_state).__name__}"
    )


def optional_module(module: str, owner: str, extra: str) -> Any:
    """Import the optional dependency ``module`` for ``owner``, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        package = module.split(".")[0]
        raise ImportError(
            f"{owner} needs {package}; install it with `pip install 'ibkit[{extra}]'`"
        ) from None


def pandas_module(owner: str) -> Any:
    """Import pandas for ``owner`` (a function or method name), or say how to install it."""
    return optional_module("pandas", owner, "plot")
