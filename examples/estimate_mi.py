"""Estimate mutual information from samples, and check the estimators against the truth.

Run: python examples/estimate_mi.py
"""

import numpy as np

from ibkit import estimate_mi
from ibkit.datasets import gaussian_task, transformed_task
from ibkit.study import estimator_accuracy, summarize_accuracy

rng = np.random.default_rng(0)

# your data: two sets of columns, one row per sample
x = rng.standard_normal((2000, 3))
y = x[:, :1] + 0.5 * rng.standard_normal((2000, 1))
for method in ("ksg", "gaussian"):
    est = estimate_mi(x, y, method=method, random_state=0)
    print(f"{method:>8}: I(X;Y) = {est.value:.3f} {est.units}")

# a discrete label works with every method: I(X;Y) for y in {0, 1}
labels = (x[:, 0] > 0).astype(int)
print(f"     ksg, discrete y: {estimate_mi(x, labels, method='ksg').value:.3f} bits")

# which estimator to trust? run them on tasks whose mutual information is known
tasks = {
    "gaussian 2-D": gaussian_task(2, 0.7),
    "cube(gaussian 2-D)": transformed_task(gaussian_task(2, 0.7), "cube"),
}
table = estimator_accuracy(tasks, ["ksg", "gaussian", "binning"], n=(1000,), seeds=(0, 1))
print(summarize_accuracy(table)[["task", "estimator", "truth", "mean", "bias", "std"]].round(3))
