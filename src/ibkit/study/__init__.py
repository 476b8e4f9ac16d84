"""The information-plane study: runs, tidy tables, compression metrics and figures.

- :mod:`ibkit.study.metrics` — compression per layer (peak of I(X;T), its epoch, the drop
  to the end) and confidence intervals across seeds.
- :mod:`ibkit.study.accuracy` — estimators against the known truth of sampled tasks.
- :mod:`ibkit.study.figures` — information planes, layer trajectories, gradient SNR.
- :mod:`ibkit.study.plane_study` — the tanh-vs-ReLU study: train, record, summarise.
- :mod:`ibkit.study.ground_truth` — planes with exact values: noisy deep linear and
  quantised networks, recorded beside their truth.
- :mod:`ibkit.study.plane_accuracy` — estimators on the plane: errors against the truth,
  compression seen or missed, data-processing violations.
- :mod:`ibkit.study.sgd_noise` — minibatch SGD against full-batch descent: is
  compression caused by the noise of SGD? (:mod:`ibkit.study.sgd_figures` draws it.)
"""

from ibkit.study.accuracy import estimator_accuracy, summarize_accuracy
from ibkit.study.ground_truth import (
    GroundTruthPlane,
    LinearNetwork,
    LinearSetting,
    QuantizedSetting,
    discrete_layer_information,
    ground_truth_plane,
    linear_layer_information,
)
from ibkit.study.metrics import METRICS, RUN_COLUMNS, compression_metrics, summarize_compression
from ibkit.study.plane_accuracy import dpi_violations, plane_accuracy
from ibkit.study.plane_study import (
    PLANE_ESTIMATORS,
    REFERENCE_ESTIMATORS,
    PlaneStudy,
    PlaneStudyResult,
    run_plane_study,
)
from ibkit.study.sgd_figures import plot_sgd_vs_full_batch
from ibkit.study.sgd_noise import SGDNoiseResult, gradient_phases, sgd_vs_full_batch

__all__ = [
    "GroundTruthPlane",
    "LinearNetwork",
    "LinearSetting",
    "METRICS",
    "PLANE_ESTIMATORS",
    "PlaneStudy",
    "PlaneStudyResult",
    "QuantizedSetting",
    "REFERENCE_ESTIMATORS",
    "RUN_COLUMNS",
    "SGDNoiseResult",
    "compression_metrics",
    "discrete_layer_information",
    "dpi_violations",
    "estimator_accuracy",
    "gradient_phases",
    "ground_truth_plane",
    "linear_layer_information",
    "plane_accuracy",
    "plot_sgd_vs_full_batch",
    "run_plane_study",
    "sgd_vs_full_batch",
    "summarize_accuracy",
    "summarize_compression",
]
