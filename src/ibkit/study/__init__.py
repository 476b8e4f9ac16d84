"""The information-plane study: runs, tidy tables, compression metrics and figures.

- :mod:`ibkit.study.metrics` — compression per layer (peak of I(X;T), its epoch, the drop
  to the end) and confidence intervals across seeds.
- :mod:`ibkit.study.accuracy` — estimators against the known truth of sampled tasks.
- :mod:`ibkit.study.figures` — information planes, layer trajectories, gradient SNR.
- :mod:`ibkit.study.plane_study` — the tanh-vs-ReLU study: train, record, summarise.
"""

from ibkit.study.accuracy import estimator_accuracy, summarize_accuracy
from ibkit.study.metrics import METRICS, RUN_COLUMNS, compression_metrics, summarize_compression
from ibkit.study.plane_study import PLANE_ESTIMATORS, PlaneStudy, PlaneStudyResult, run_plane_study

__all__ = [
    "METRICS",
    "PLANE_ESTIMATORS",
    "PlaneStudy",
    "PlaneStudyResult",
    "RUN_COLUMNS",
    "compression_metrics",
    "estimator_accuracy",
    "run_plane_study",
    "summarize_accuracy",
    "summarize_compression",
]
