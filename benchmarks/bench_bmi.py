"""ibkit's MI estimators side by side with benchmark-mi (``bmi``) on ground-truth tasks.

Run with ``make bench-bmi`` (it builds ``.venv-bmi``: benchmark-mi 0.1.3 imports only with
older jax and scipy pins) or ``.venv-bmi/bin/python benchmarks/bench_bmi.py [--quick]``.

The tasks, sample sizes, seeds and the table are those of ``bench_estimators.py``.
Methods (bmi's estimates are in nats and are converted to bits):

* ibkit ``ksg`` (k=3, standardised), ``gaussian``, ``binning`` (its default: b = max(2,
  round((n/5)^(1/d))) equal-mass bins per coordinate, d = d_x + d_y);
* bmi ``KSGEnsembleFirstEstimator`` with one neighbourhood k=3, max-norm in X and Y and
  each column standardised (its default): the same estimator as ibkit's ``ksg``
  (variant 1), so the two columns should agree up to ibkit's 1e-10 tie-breaking jitter,
  and differ in time;
* bmi ``HistogramEstimator`` on standardised data with the same b bins per coordinate
  as ibkit's binning, equal-width over each coordinate's range (not on the 20-D task:
  its loops run over all b^(d_x + d_y) = 2^40 cells), ``CCAMutualInformationEstimator``
  and ``KDEMutualInformationEstimator`` (its defaults: tophat kernel, Scott bandwidth).

Below the table, the mean absolute error of every method over the rows where all ran.
A second table times the KSG neighbour searches at n = 5000 in 1, 5 and 20 dimensions
per variable: ibkit with ``algorithm="kd_tree"``, ``"brute"`` and ``"auto"`` (the
default), and bmi's KSG; each time is the best of ``--repeats`` calls (0: no timing).
Results go to ``benchmarks/results/bmi.json``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from bench_estimators import (
    CLASSICAL,
    LN2,
    TASKS,
    Method,
    chosen,
    fmt_time,
    grid,
    grid_parser,
    ibkit_method,
    report_estimates,
    run_all,
)
from report import finish, print_markdown, show_table, versions

RESULTS = Path(__file__).resolve().parent / "results" / "bmi.json"

#: tasks of the speed table (1, 5 and 20 dimensions per variable) and its sample size
SPEED_TASKS = ("gauss-1d", "gauss-5d", "gauss-20d-sparse")
SPEED_N = 5000


def bmi_method(factory: Callable[[], Any]) -> Callable[[np.ndarray, np.ndarray, int], float]:
    """A bmi estimator (built by ``factory`` on each call) as a method in bits."""

    def run(x: np.ndarray, y: np.ndarray, seed: int) -> float:
        return float(factory().estimate(x, y)) / LN2

    return run


def bmi_ksg() -> Any:
    from bmi.estimators import KSGEnsembleFirstEstimator

    return KSGEnsembleFirstEstimator(neighborhoods=(3,), metric_x="chebyshev", standardize=True)


def bmi_histogram(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    """bmi's histogram in bits with ibkit binning's number of bins per coordinate."""
    from bmi.estimators import HistogramEstimator

    from ibkit.estimators.binning import _default_bins

    bins = _default_bins(x.shape[0], x.shape[1] + y.shape[1])
    return float(HistogramEstimator(n_bins_x=bins).estimate(x, y)) / LN2


def bmi_cca() -> Any:
    from bmi.estimators import CCAMutualInformationEstimator

    return CCAMutualInformationEstimator()


def bmi_kde() -> Any:
    from bmi.estimators import KDEMutualInformationEstimator

    return KDEMutualInformationEstimator()


METHODS: tuple[Method, ...] = (
    *CLASSICAL,
    Method("bmi-ksg", "bmi KSG (k=3, max-norm, standardised)", bmi_method(bmi_ksg)),
    Method(
        "bmi-hist",
        "bmi histogram (standardised, ibkit binning's number of bins per coordinate)",
        bmi_histogram,
        tasks=frozenset(t.key for t in TASKS if t.key != "gauss-20d-sparse"),
    ),
    Method("bmi-cca", "bmi CCA", bmi_method(bmi_cca)),
    Method("bmi-kde", "bmi KDE (tophat, Scott)", bmi_method(bmi_kde)),
)

SPEED_METHODS: dict[str, Callable[[np.ndarray, np.ndarray, int], float]] = {
    "ibkit ksg kd_tree": ibkit_method("ksg", k=3, algorithm="kd_tree"),
    "ibkit ksg brute": ibkit_method("ksg", k=3, algorithm="brute"),
    "ibkit ksg auto": ibkit_method("ksg", k=3),
    "bmi ksg": bmi_method(bmi_ksg),
}


def ksg_speed(repeats: int) -> list[dict[str, Any]]:
    """Best-of-``repeats`` time of each KSG implementation on the speed tasks."""
    rows = []
    for spec in (t for t in TASKS if t.key in SPEED_TASKS):
        task = spec.build()
        x, y = task.sample(SPEED_N, random_state=0)
        row: dict[str, Any] = {"task": spec.key, "title": spec.title, "dim": task.dim}
        for label, run in SPEED_METHODS.items():
            print(f"  speed {spec.title:<28} {label:<18} ...", end="", file=sys.stderr)
            best, value = np.inf, np.nan
            for _ in range(repeats):
                t0 = time.perf_counter()
                value = run(x, y, 0)
                best = min(best, time.perf_counter() - t0)
            print(f" {fmt_time(best)}", file=sys.stderr)
            row[label] = {"seconds": best, "bits": value}
        rows.append(row)
    return rows


def print_speed(rows: list[dict[str, Any]]) -> str:
    """Print the speed table; return it as markdown."""
    labels = list(SPEED_METHODS)
    header = ("task", "dim", *labels, "bmi / ibkit auto", "|Δ| bits")
    body = []
    for row in rows:
        ratio = row["bmi ksg"]["seconds"] / row["ibkit ksg auto"]["seconds"]
        delta = abs(row["bmi ksg"]["bits"] - row["ibkit ksg auto"]["bits"])
        body.append(
            (
                row["title"],
                str(row["dim"]),
                *(fmt_time(row[lab]["seconds"]) for lab in labels),
                f"{ratio:.1f}x",
                f"{delta:.1e}",
            )
        )
    return show_table(f"\nKSG (k=3) time at n = {SPEED_N}, best of repeats", header, body)


def main(argv: list[str] | None = None) -> int:
    parser = grid_parser(__doc__.split("\n")[0], RESULTS)
    parser.add_argument("--repeats", type=int, default=3, help="timings per speed cell")
    args = parser.parse_args(argv)
    ns, seeds, tasks = grid(args)
    vers = versions(("ibkit", "benchmark-mi", "jax", "numpy", "scipy", "scikit-learn"))

    started = time.perf_counter()
    print(f"benchmark-mi comparison: n in {ns}, seeds {seeds}", file=sys.stderr)
    methods = chosen(METHODS, args.methods)
    records = run_all(tasks, ns, seeds, args.slow, methods)
    speed = ksg_speed(args.repeats) if args.repeats > 0 else []
    total = time.perf_counter() - started

    out = report_estimates(args, ns, seeds, methods, records, vers, [m.key for m in methods])
    speed_md = print_speed(speed) if speed else ""
    if speed_md:
        print_markdown(speed_md)
    speed_out = {"speed_n": SPEED_N, "speed": speed, "speed_markdown": speed_md}
    finish(args.out, {**out, **speed_out}, total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
