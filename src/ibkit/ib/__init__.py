"""Exact Information Bottleneck on known distributions."""

from ibkit.ib._result import IBResult
from ibkit.ib.curve import IBCurve, ib_curve, upper_concave_envelope
from ibkit.ib.iterative import iterative_ib

__all__ = ["IBCurve", "IBResult", "ib_curve", "iterative_ib", "upper_concave_envelope"]
