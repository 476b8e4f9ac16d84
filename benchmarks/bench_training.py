"""Training benchmark: epochs per second on the 12-bit task, one seed and ensembles of seeds.

Run with ``.venv/bin/python benchmarks/bench_training.py [--quick]``.
The network is the 12-10-7-5-4-3-2 tanh MLP of Shwartz-Ziv & Tishby (2017) on the
12-bit task, trained on a stratified 85 % split (3482 patterns; the other 614 are the
test set, evaluated every epoch as the history does). Two training set-ups:

- ``adam/256``: Adam, lr 4e-4, minibatches of 256 (Saxe et al. 2018's code), 14 steps
  per epoch;
- ``sgd/full``: full-batch SGD, lr 0.1, one step per epoch.

For each, ``ibkit.nn.fit`` on one ``MLP`` and on an ``EnsembleMLP`` of 10 seeds, with
``torch.set_num_threads`` 1 and 2. Reported: epochs per second (median of 3 timed runs
of about 1.5 s each, after a warm-up), seed-epochs per second (members × epochs/s), the
speed-up of the ensemble over training its 10 seeds one after another, and the share
of an epoch spent on the history (full-array evaluation of train and test sets).
Results go to ``benchmarks/results/training.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from report import print_table, versions, write_json

from ibkit.datasets import tishby_12bit, train_test_split
from ibkit.nn.ensemble import EnsembleMLP
from ibkit.nn.mlp import MLP
from ibkit.nn.training import _evaluate, fit

RESULTS = Path(__file__).resolve().parent / "results" / "training.json"
SETUPS: dict[str, dict[str, Any]] = {
    "adam/256": {"optimizer": "adam", "lr": 4e-4, "batch_size": 256},
    "sgd/full": {"optimizer": "sgd", "lr": 0.1},
}
N_MEMBERS = 10


def split() -> tuple[np.ndarray, ...]:
    """Stratified 85/15 split of the 12-bit task (seed 0, as the study), float32/int64 arrays."""
    task = tishby_12bit()
    s = train_test_split(task.x.astype(np.float32), task.y.astype(np.int64), 0.85, random_state=0)
    return s.x_train, s.y_train, s.x_test, s.y_test


def timed(run: Callable[..., Any], seconds: float, repeats: int) -> float:
    """Median epochs per second of ``run(epochs=...)``, sized to take about ``seconds``."""
    start = time.perf_counter()
    run(epochs=3)  # warm-up, and a first estimate of the epoch time
    per_epoch = (time.perf_counter() - start) / 3
    epochs = max(3, round(seconds / per_epoch))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(epochs=epochs)
        rates.append(epochs / (time.perf_counter() - start))
    return statistics.median(rates)


def history_share(model: torch.nn.Module, data: tuple[np.ndarray, ...], rate: float) -> float:
    """Fraction of an epoch (at ``rate`` epochs/s) spent on the history's evaluations.

    Times the same full-array, no-grad evaluation of the train and test sets that
    ``fit`` runs after every epoch.
    """
    x_tr, y_tr, x_te, y_te = (torch.from_numpy(a) for a in data)

    def run() -> None:
        _evaluate(model, x_tr, y_tr)
        _evaluate(model, x_te, y_te)

    run()
    n = 20
    start = time.perf_counter()
    for _ in range(n):
        run()
    return (time.perf_counter() - start) / n * rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="0.5 s per run, 1 repeat")
    args = parser.parse_args(argv)
    seconds, repeats = (0.5, 1) if args.quick else (1.5, 3)
    data = split()
    x_tr, y_tr, x_te, y_te = data

    results = []
    for setup, options in SETUPS.items():
        for threads in (1, 2):
            torch.set_num_threads(threads)
            row: dict[str, Any] = {"setup": setup, "threads": threads}
            for label, model in (
                ("single", MLP(12, seed=0)),
                ("ensemble", EnsembleMLP(N_MEMBERS, 12)),
            ):
                run = partial(fit, model, x_tr, y_tr, x_test=x_te, y_test=y_te, **options)
                rate = timed(run, seconds, repeats)
                row[f"{label}_epochs_per_s"] = rate
                row[f"{label}_history_share"] = history_share(model, data, rate)
            row["ensemble_speedup"] = (
                row["ensemble_epochs_per_s"] * N_MEMBERS / row["single_epochs_per_s"]
            )
            results.append(row)

    print(f"12-bit task, 12-10-7-5-4-3-2 tanh, {len(x_tr)} train / {len(x_te)} test patterns")
    header = (
        "setup",
        "threads",
        "1 seed: epochs/s",
        f"{N_MEMBERS} seeds: epochs/s",
        "seed-epochs/s",
        "speed-up",
        "history share (1 / 10)",
    )
    print_table(
        header,
        [
            (
                r["setup"],
                str(r["threads"]),
                f"{r['single_epochs_per_s']:.0f}",
                f"{r['ensemble_epochs_per_s']:.0f}",
                f"{r['ensemble_epochs_per_s'] * N_MEMBERS:.0f}",
                f"{r['ensemble_speedup']:.1f}x",
                f"{r['single_history_share']:.0%} / {r['ensemble_history_share']:.0%}",
            )
            for r in results
        ],
    )
    write_json(
        RESULTS,
        {
            "task": "tishby_12bit, stratified 85/15 split (seed 0)",
            "network": "MLP(12, (10, 7, 5, 4, 3), 2, 'tanh')",
            "n_members": N_MEMBERS,
            "setups": SETUPS,
            "seconds_per_run": seconds,
            "repeats": repeats,
            "results": results,
            "versions": versions(["torch", "numpy", "ibkit"]),
        },
    )
    print(f"results written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
