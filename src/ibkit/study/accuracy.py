"""How accurate is each MI estimator? Estimates against the known truth of sampled tasks.

Every :class:`~ibkit.datasets.GroundTruthTask` knows its I(X;Y); each estimator is run on
fresh samples of it at several sample sizes and seeds, and the table records the estimate,
the truth and the time. :func:`summarize_accuracy` reduces it to bias, spread and root mean
squared error per (task, n, estimator): the numbers a user needs to choose an estimator.

>>> from ibkit.datasets import gaussian_task
>>> table = estimator_accuracy({"gauss": gaussian_task(1, 0.8)}, {"gaussian": "gaussian"},
...                            n=(500,), seeds=(0, 1))
>>> summary = summarize_accuracy(table)
>>> bool(abs(summary["bias"].iloc[0]) < 0.05)   # truth 0.737 bits
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ibkit._validation import InvalidParameterError, check_int, check_units, pandas_module
from ibkit.datasets.ground_truth import GroundTruthTask
from ibkit.estimators._base import MIEstimator, resolve_estimators

__all__ = ["estimator_accuracy", "summarize_accuracy"]


def estimator_accuracy(
    tasks: Mapping[str, GroundTruthTask],
    estimators: Any,
    *,
    n: Iterable[int] = (1000,),
    seeds: Iterable[int] = (0, 1, 2),
    units: str = "bits",
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """Run every estimator on every task at every sample size and seed.

    Parameters
    ----------
    tasks : mapping of label -> GroundTruthTask
    estimators : list of names, or mapping of label -> name, (name, params) or MIEstimator
        (see :func:`ibkit.estimators.resolve_estimators`)
    n, seeds : iterables of int
        Sample sizes, and seeds (each seed draws its own sample and seeds the estimator).
    units : {"bits", "nats"}
    on_result : callable, optional
        Called with each row as it is produced (e.g. to advance a progress bar).

    Returns
    -------
    pandas.DataFrame
        One row per (task, n, estimator, seed): ``task, dim, n, estimator, seed, truth,
        estimate, lower, upper, seconds, error`` (``error`` holds the message when the
        estimator raised ``ValueError`` on that input, and the estimate is then NaN).
    """
    pd = pandas_module("estimator_accuracy")
    units = check_units(units)
    sizes = [check_int(k, "n", minimum=2) for k in n]
    seed_list = [check_int(s, "seed", minimum=0) for s in seeds]
    methods = resolve_estimators(estimators)
    rows = []
    for task_label, task in tasks.items():
        if not isinstance(task, GroundTruthTask):
            raise InvalidParameterError(f"task {task_label!r} is not a GroundTruthTask: {task!r}")
        truth = task.mi(units)
        for size in sizes:
            for seed in seed_list:
                x, y = task.sample(size, random_state=seed)
                for label, est in methods.items():
                    row = _run_one(est, x, y, seed, units)
                    row = {
                        "task": task_label,
                        "dim": task.dim,
                        "n": size,
                        "estimator": label,
                        "seed": seed,
                        "truth": truth,
                        **row,
                    }
                    rows.append(row)
                    if on_result is not None:
                        on_result(row)
    return pd.DataFrame(rows)


def summarize_accuracy(table: Any) -> Any:
    """Per (task, n, estimator): ``truth, mean, bias, std, rmse, seconds, n_seeds``.

    ``bias`` is mean − truth, ``std`` the standard deviation over seeds (ddof = 1), ``rmse``
    the root mean squared error over seeds, ``seconds`` the mean time per call.
    """
    need = {"task", "n", "estimator", "truth", "estimate", "seconds"}
    missing = sorted(need - set(table.columns))
    if missing:
        raise InvalidParameterError(f"the accuracy table lacks the column(s) {', '.join(missing)}")
    err = table["estimate"] - table["truth"]
    grouped = table.assign(sq_err=err**2).groupby(["task", "n", "estimator"], sort=False)
    out = grouped.agg(
        truth=("truth", "first"),
        mean=("estimate", "mean"),
        std=("estimate", "std"),
        mse=("sq_err", "mean"),
        seconds=("seconds", "mean"),
        n_seeds=("estimate", "count"),
    ).reset_index()
    out.insert(out.columns.get_loc("std"), "bias", out["mean"] - out["truth"])
    out["rmse"] = np.sqrt(out.pop("mse"))
    return out


def _run_one(est: MIEstimator, x: np.ndarray, y: np.ndarray, seed: int, units: str) -> dict:
    start = time.perf_counter()
    try:
        res = est.estimate(x, y, units=units, random_state=seed)
    except ValueError as exc:
        nan = float("nan")
        return {"estimate": nan, "lower": nan, "upper": nan, "seconds": nan, "error": str(exc)}
    seconds = time.perf_counter() - start
    return {
        "estimate": res.value,
        "lower": np.nan if res.lower is None else res.lower,
        "upper": np.nan if res.upper is None else res.upper,
        "seconds": seconds,
        "error": None,
    }
