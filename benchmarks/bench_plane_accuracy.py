"""Estimators on the information plane, against the truth: errors, compression, DPI.

Run with ``.venv/bin/python benchmarks/bench_plane_accuracy.py [--quick]``.

1. Ground-truth planes (``ibkit.study.ground_truth_plane``), over several seeds:

   - ``linear``: the noisy deep linear student-teacher network (4 relevant and 8
     irrelevant Gaussian inputs, noisy layers 8-6-4, sigma^2 = 0.2), estimated from
     fresh samples at every recorded epoch with the Gaussian and KSG estimators; the
     compression of I(X;T) and of the irrelevant information I(X_irr;T) are judged;
   - ``quantized``: the 12-bit task with tanh quantised to 8 bits (and 4 bits in the full
     run), recorded on all 4096 inputs with the plug-in, the two binnings of the
     references and the KDE bounds.

   For each setting and estimator: the mean absolute error in bits of I(X;T) and I(T;Y)
   along the trajectories (every layer, recorded epoch and seed), the mean drop of
   I(X;T) from its peak to the end, true and estimated, and the fraction of
   (layer, seed) trajectories where the estimate and the truth agree on whether the
   layer compresses (a drop above 0.1 bit).

2. Data-processing violations on ordinary (unquantised) tanh and ReLU networks on the
   12-bit task: the fraction of adjacent layer pairs (hidden layers and softmax output,
   every recorded epoch and seed) whose estimated I(X;T) or I(T;Y) increases by more
   than 1e-6 bit, which no true value can do.

``--quick`` (well under a minute) trains briefly at a higher learning rate, records
fewer epochs with fewer estimators, and probes the unquantised networks on 1024 of the
4096 patterns; the full run trains as the references do (Adam, 4e-4, 2000 epochs). Results go to
``benchmarks/results/plane_accuracy.json`` and a markdown table is printed.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from report import markdown_table, versions, write_json
from threadpoolctl import threadpool_limits

from ibkit.datasets import tishby_12bit, train_test_split
from ibkit.estimators import SaturationWarning
from ibkit.nn import EnsembleMLP, InformationPlane, fit, torch_threads
from ibkit.study import (
    PLANE_ESTIMATORS,
    REFERENCE_ESTIMATORS,
    dpi_violations,
    ground_truth_plane,
    plane_accuracy,
)

RESULTS = Path(__file__).resolve().parent / "results" / "plane_accuracy.json"
MIN_DROP = 0.1  # bits: a trajectory compresses when I(X;T) falls more than this

QUANTIZED_ESTIMATORS = {
    "plugin": ("plugin", {}),
    **{k: PLANE_ESTIMATORS[k] for k in ("bin30[-1:1]", "bin0.07", "kde1e-3", "kde0.1")},
}

CONFIG = {
    "quick": {
        "seeds": (0, 1, 2),
        "linear": {"epochs": 1000, "n_points": 6, "n_samples": 500},
        "quantized": {
            "bits": (8,),
            "hidden": (10, 7, 5, 4, 3),
            "epochs": 100,
            "lr": 0.01,
            "n_points": 4,
            "estimators": ("plugin", "bin30[-1:1]", "bin0.07", "kde0.1"),
        },
        "dpi": {"epochs": 100, "lr": 0.01, "n_points": 4, "probe": 1024},
    },
    "full": {
        "seeds": (0, 1, 2, 3, 4),
        "linear": {"epochs": 2000, "n_points": 20, "n_samples": 2000},
        "quantized": {
            "bits": (8, 4),
            "hidden": (10, 7, 5, 4, 3),
            "epochs": 2000,
            "lr": 4e-4,
            "n_points": 20,
            "estimators": tuple(QUANTIZED_ESTIMATORS),
        },
        "dpi": {"epochs": 2000, "lr": 4e-4, "n_points": 20, "probe": 4096},
    },
}


def summarise(label: str, results: pd.DataFrame, compression: str) -> pd.DataFrame:
    """One row per estimator: errors in bits, drops and compression agreement."""
    per_layer = plane_accuracy(results, compression=compression, min_drop=MIN_DROP)
    mae_xt = f"mae_{compression}"
    table = per_layer.groupby("estimator", sort=False).agg(
        mae_i_xt=(mae_xt, "mean"),
        mae_i_ty=("mae_i_ty", "mean"),
        true_drop=("true_drop", "mean"),
        est_drop=("est_drop", "mean"),
        drop_error=("drop_error", "mean"),
        compression_right=("compression_agreement", "mean"),
    )
    return table.reset_index().assign(setting=label, information=compression)


def ground_truth_rows(config: dict, seeds: tuple[int, ...]) -> tuple[pd.DataFrame, dict]:
    """The accuracy table of every ground-truth setting, and seconds per setting."""
    frames, seconds = [], {}
    started = time.perf_counter()
    linear = ground_truth_plane(
        "linear",
        estimators={"gaussian": "gaussian", "ksg": ("ksg", {"k": 3})},
        seeds=seeds,
        n_points=config["linear"]["n_points"],
        epochs=config["linear"]["epochs"],
        n_samples=config["linear"]["n_samples"],
    )
    frames.append(summarise("linear", linear.results, "i_xt"))
    frames.append(summarise("linear", linear.results, "i_xt_irr"))
    seconds["linear"] = time.perf_counter() - started
    q = config["quantized"]
    for bits in q["bits"]:
        started = time.perf_counter()
        plane = ground_truth_plane(
            "quantized",
            estimators={k: QUANTIZED_ESTIMATORS[k] for k in q["estimators"]},
            seeds=seeds,
            n_points=q["n_points"],
            hidden=q["hidden"],
            quantize_bits=bits,
            epochs=q["epochs"],
            lr=q["lr"],
        )
        label = f"quantized tanh {bits}-bit"
        frames.append(summarise(label, plane.results, "i_xt"))
        seconds[label] = time.perf_counter() - started
    return pd.concat(frames, ignore_index=True), seconds


def dpi_rows(config: dict, seeds: tuple[int, ...]) -> pd.DataFrame:
    """DPI violations of the plane estimators on unquantised tanh and ReLU networks."""
    task = tishby_12bit()
    split = train_test_split(task.x, task.y, 0.85, random_state=0)
    probe = np.random.default_rng(0).permutation(4096)[: config["probe"]]
    frames = []
    for activation in ("tanh", "relu"):
        model = EnsembleMLP(seeds, 12, activation=activation)
        plane = InformationPlane(
            model,
            task.x[probe],
            task.y[probe],
            {label: PLANE_ESTIMATORS[label] for label in REFERENCE_ESTIMATORS},
            schedule="log",
            n_epochs=config["epochs"] + 1,
            n_points=config["n_points"],
            run="dpi",
            labels={"activation": activation},
        )
        with plane:
            fit(
                model,
                split.x_train,
                split.y_train,
                epochs=config["epochs"],
                batch_size=256,
                optimizer="adam",
                lr=config["lr"],
                on_epoch=plane.record,
            )
        frames.append(plane.results)
    return dpi_violations(pd.concat(frames, ignore_index=True), by=("activation", "estimator"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, well under a minute")
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    config = CONFIG[mode]
    # saturated layers are part of what is measured here, not news
    warnings.simplefilter("ignore", SaturationWarning)
    started = time.perf_counter()
    with threadpool_limits(1), torch_threads(1):
        accuracy, seconds = ground_truth_rows(config, config["seeds"])
        dpi = dpi_rows(config["dpi"], config["seeds"])
    seconds["total"] = time.perf_counter() - started

    n_seeds = len(config["seeds"])
    print(f"Estimators against the truth ({mode} run, {n_seeds} seeds; bits)\n")
    rows = [
        (
            r.setting,
            "I(X_irr;T)" if r.information == "i_xt_irr" else "I(X;T)",
            r.estimator,
            f"{r.mae_i_xt:.3f}",
            "-" if r.information == "i_xt_irr" else f"{r.mae_i_ty:.3f}",
            f"{r.true_drop:.3f}",
            f"{r.est_drop:.3f}",
            f"{r.compression_right:.0%}",
        )
        for r in accuracy.itertuples()
    ]
    header = (
        "setting", "information", "estimator", "MAE info", "MAE I(T;Y)",
        "true drop", "est. drop", "compression right",
    )  # fmt: skip
    print(markdown_table(header, rows))
    print(f"\nData-processing violations on unquantised 12-bit networks ({mode} run)\n")
    dpi_table = [
        (
            r.activation,
            r.estimator,
            str(r.n_pairs),
            f"{r.i_xt_violations:.0%}",
            f"{r.i_xt_max_excess:.2f}",
            f"{r.i_ty_violations:.0%}",
            f"{r.i_ty_max_excess:.3f}",
        )
        for r in dpi.itertuples()
    ]
    print(
        markdown_table(
            ("activation", "estimator", "pairs", "I(X;T) up", "max rise", "I(T;Y) up", "max rise"),
            dpi_table,
        )
    )
    print(f"\n{seconds['total']:.0f} s in all")
    write_json(
        RESULTS,
        {
            "mode": mode,
            "config": config,
            "min_drop_bits": MIN_DROP,
            "accuracy": accuracy.to_dict("records"),
            "dpi_violations": dpi.to_dict("records"),
            "seconds": seconds,
            "versions": versions(["ibkit", "torch", "numpy", "pandas"]),
        },
    )


if __name__ == "__main__":
    main()
