"""Exact Information Bottleneck on known distributions.

- :func:`iterative_ib`: the self-consistent equations at one β (IB, DIB, generalised).
- :func:`ib_curve`: the IB curve by deterministic annealing, with its concave envelope.
- :func:`agglomerative_ib`: hard bottom-up merging, a curve point for every |T|.
- :func:`gaussian_ib`: the closed-form Gaussian IB.

Each discrete solution is an :class:`IBResult`; the curve results share the
:class:`CurveResult` contract (``i_xy``, ``units``, ``to_frame``, ``to_dict``, ``plot``).
"""

from ibkit.ib._result import CurveResult, IBResult
from ibkit.ib.agglomerative import AgglomerativeIBResult, agglomerative_ib
from ibkit.ib.curve import IBCurve, ib_curve, upper_concave_envelope
from ibkit.ib.gaussian import GaussianIBResult, gaussian_ib, gaussian_ib_from_samples
from ibkit.ib.iterative import iterative_ib

__all__ = [
    "AgglomerativeIBResult",
    "CurveResult",
    "GaussianIBResult",
    "IBCurve",
    "IBResult",
    "agglomerative_ib",
    "gaussian_ib",
    "gaussian_ib_from_samples",
    "ib_curve",
    "iterative_ib",
    "upper_concave_envelope",
]
