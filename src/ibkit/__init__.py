"""ibkit: the Information Bottleneck toolkit.

Exact IB solvers and curves on known distributions (:mod:`ibkit.ib`), discrete
information measures (:mod:`ibkit.measures`) and the datasets of the classic studies
(:mod:`ibkit.datasets`).
"""

from ibkit._validation import ConvergenceWarning

__version__ = "0.1.0"

__all__ = ["ConvergenceWarning", "__version__"]
