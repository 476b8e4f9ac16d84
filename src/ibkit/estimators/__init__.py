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
``binning``, ``plugin``, ``kde``, ``noisy_mc``, ``ksg``, ``gaussian``, the matrix-based
Rényi functional ``renyi`` (not Shannon MI), and the neural ``infonce``, ``nwj``,
``mine`` (PyTorch, imported on first use).

Every :class:`MIEstimate` carries :class:`Diagnostics`: whether the value is negative
(beyond :data:`NEGATIVE_TOLERANCE_BITS` of round-off),
sits at the method's ceiling (within :data:`CEILING_TOLERANCE_BITS` of the most it can
give on these samples: the method tells every sample apart), how far apart its bounds
are, and for binning the share of samples alone in their cell. The information-plane
recorder raises a :class:`SaturationWarning` for layers at the ceiling.
"""

from ibkit.estimators import binning, gaussian, kde, ksg, renyi  # noqa: F401  (register methods)
from ibkit.estimators._base import (
    CEILING_TOLERANCE_BITS,
    NEGATIVE_TOLERANCE_BITS,
    Diagnostics,
    MIEstimate,
    MIEstimator,
    SaturationWarning,
    available_methods,
    estimate_mi,
    get_estimator,
    plane_methods,
    resolve_estimators,
    resolve_plane_estimators,
)

__all__ = [
    "CEILING_TOLERANCE_BITS",
    "NEGATIVE_TOLERANCE_BITS",
    "Diagnostics",
    "MIEstimate",
    "MIEstimator",
    "SaturationWarning",
    "available_methods",
    "estimate_mi",
    "get_estimator",
    "plane_methods",
    "resolve_estimators",
    "resolve_plane_estimators",
]
