"""Mutual information from samples, with one entry point and one result type.

>>> import numpy as np
>>> from ibkit.estimators import estimate_mi
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal(2000)
>>> y = 0.8 * x + 0.6 * rng.standard_normal(2000)
>>> est = estimate_mi(x, y, method="gaussian")  # truth: −½ log2(1 − 0.8²) ≈ 0.737 bits
>>> bool(abs(est.value - 0.737) < 0.05)
True

Methods (the strings used by the API, the command line and configuration files):
``binning``, ``plugin``, ``kde``, ``noisy_mc``, ``ksg``, ``gaussian``, and the neural
``infonce``, ``nwj``, ``mine`` (PyTorch, imported on first use).
"""

from ibkit.estimators import binning, gaussian, kde, ksg  # noqa: F401  (register methods)
from ibkit.estimators._base import (
    MIEstimate,
    MIEstimator,
    available_methods,
    estimate_mi,
    get_estimator,
    plane_methods,
    resolve_estimators,
    resolve_plane_estimators,
)

__all__ = [
    "MIEstimate",
    "MIEstimator",
    "available_methods",
    "estimate_mi",
    "get_estimator",
    "plane_methods",
    "resolve_estimators",
    "resolve_plane_estimators",
]
