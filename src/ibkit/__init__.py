"""ibkit: the Information Bottleneck toolkit.

Exact IB solvers and curves on known distributions (:mod:`ibkit.ib`), discrete
information measures (:mod:`ibkit.measures`), mutual information from samples
(:mod:`ibkit.estimators`, :func:`estimate_mi`) and the datasets of the classic studies
(:mod:`ibkit.datasets`). Submodules load on first use, so ``import ibkit`` stays light.
"""

from typing import Any

from ibkit._validation import ConvergenceWarning, DivergenceError, InvalidParameterError

#: The version, written here only: pyproject.toml reads it (setuptools dynamic version).
__version__ = "0.1.0"

__all__ = [
    "ConvergenceWarning",
    "DivergenceError",
    "InvalidParameterError",
    "MIEstimate",
    "__version__",
    "estimate_mi",
]


def __getattr__(name: str) -> Any:
    if name in ("estimate_mi", "MIEstimate"):
        from ibkit import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'ibkit' has no attribute {name!r}")
