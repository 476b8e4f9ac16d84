"""Datasets: the 12-bit task of the classic studies, ground-truth samplers, and loaders.

- :mod:`ibkit.datasets.tishby` — the 12-bit task of Shwartz-Ziv & Tishby (2017),
  generated from its rule (:func:`tishby_12bit`), and a loader for ``var_u.mat``.
- :mod:`ibkit.datasets.ground_truth` — samplers that know their own I(X;Y), used to
  measure the estimators.
- :mod:`ibkit.datasets.split` — seeded, stratified, shuffled train/test splits.
- :mod:`ibkit.datasets.files` — scikit-learn's digits, MNIST from local IDX or npz
  files, and any npz/csv table of ``x`` and ``y``.

>>> from ibkit.datasets import tishby_12bit
>>> tishby_12bit().x.shape
(4096, 12)
"""

from ibkit.datasets.files import TABLE_FORMATS, load_digits, load_mnist, load_table
from ibkit.datasets.ground_truth import (
    TRANSFORMS,
    GroundTruthTask,
    discrete_task,
    gaussian_task,
    independent_task,
    student_t_task,
    transformed_task,
)
from ibkit.datasets.split import Split, train_test_split
from ibkit.datasets.tishby import DiscreteTask, load_var_u, tishby_12bit

__all__ = [
    "TABLE_FORMATS",
    "TRANSFORMS",
    "DiscreteTask",
    "GroundTruthTask",
    "Split",
    "discrete_task",
    "gaussian_task",
    "independent_task",
    "load_digits",
    "load_mnist",
    "load_table",
    "load_var_u",
    "student_t_task",
    "tishby_12bit",
    "train_test_split",
    "transformed_task",
]
