"""Information-plane recorder benchmark: the cost of one ``record`` and of the hooks.

Run with ``.venv/bin/python benchmarks/bench_plane.py [--quick]``.
The network is the 12-10-7-5-4-3-2 tanh MLP of Shwartz-Ziv & Tishby (2017) with random
weights, probed on all 4096 inputs of the 12-bit task (six layers: five hidden and the
softmax output). Reported, with ``torch.set_num_threads(1)``:

- one ``InformationPlane.record`` per estimator (binning with 30 bins on each layer's
  range, binning on [-1, 1], KDE bounds with sigma^2 = 1e-3), median of 3, split into the
  forward pass (hooks copying activations to CPU buffers) and the estimation
  (``plane_point`` of every layer), for one MLP, and with binning for an
  ``EnsembleMLP`` of 10 seeds (60 rows per record);
- one training step (forward + backward, batch 256) without the recorder, with its
  idle forward hooks attached, and with gradient SNR tracking.

Results go to ``benchmarks/results/plane.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from report import print_table, versions, write_json
from torch import nn

from ibkit.datasets import tishby_12bit
from ibkit.estimators import get_estimator
from ibkit.nn.ensemble import EnsembleMLP
from ibkit.nn.mlp import MLP
from ibkit.nn.plane import InformationPlane

RESULTS = Path(__file__).resolve().parent / "results" / "plane.json"
HIDDEN = (10, 7, 5, 4, 3)


def record_times(model: nn.Module, label: str, repeats: int) -> dict[str, float]:
    """Median seconds of one record: total, forward and estimation."""
    task = tishby_12bit()
    estimators = {
        "binning": get_estimator("binning", n_bins=30),
        "binning [-1, 1]": get_estimator("binning", value_range=(-1, 1)),
        "kde": get_estimator("kde", noise_variance=1e-3),
    }
    plane = InformationPlane(model, task.x, task.y, {label: estimators[label]})
    totals, forwards, estimations = [], [], []
    with plane:
        for epoch in range(repeats):
            start = time.perf_counter()
            plane.record(epoch)
            totals.append(time.perf_counter() - start)
            forwards.append(plane.last_timing["forward"])
            estimations.append(plane.last_timing["estimation"])
    return {
        "total_s": statistics.median(totals),
        "forward_s": statistics.median(forwards),
        "estimation_s": statistics.median(estimations),
    }


def step_time(model: nn.Module, steps: int) -> float:
    """Mean seconds of one forward + backward on a batch of 256 inputs."""
    task = tishby_12bit()
    x = torch.tensor(task.x[:256], dtype=torch.float32)
    y = torch.tensor(task.y[:256])

    def step() -> None:
        model.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()

    for _ in range(20):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="binning only, fewer repeats")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repeats = 3
    labels = ["binning"] if args.quick else ["binning", "binning [-1, 1]", "kde"]
    models = {"MLP": MLP(12, HIDDEN, 2, "tanh", seed=0)}
    if not args.quick:
        models["EnsembleMLP (10 seeds)"] = EnsembleMLP(10, 12, HIDDEN, 2, "tanh")
    records, rows = [], []
    for model_name, model in models.items():
        for label in labels if model_name == "MLP" else labels[:1]:
            t = record_times(model, label, repeats)
            records.append({"model": model_name, "estimator": label, **t})
            rows.append(
                (
                    model_name,
                    label,
                    f"{t['total_s'] * 1e3:.0f} ms",
                    f"{t['forward_s'] * 1e3:.1f} ms",
                    f"{t['estimation_s'] * 1e3:.0f} ms",
                )
            )
    print("One record on the 12-bit probe (n = 4096), 12-10-7-5-4-3-2 tanh, 1 thread")
    print_table(("model", "estimator", "record", "forward", "estimation"), rows)

    model = models["MLP"]
    steps = 200 if args.quick else 2000
    task = tishby_12bit()
    plain = step_time(model, steps)
    with InformationPlane(model, task.x, task.y, "binning"):
        hooked = step_time(model, steps)
    with InformationPlane(model, task.x, task.y, "binning", track_gradients=True):
        tracked = step_time(model, steps)
    print("\nTraining step (forward + backward, batch 256) of the MLP")
    print_table(
        ("recorder", "step", "overhead"),
        [
            ("none", f"{plain * 1e6:.0f} us", "-"),
            ("hooks attached", f"{hooked * 1e6:.0f} us", f"{hooked / plain - 1:+.0%}"),
            ("+ gradient SNR", f"{tracked * 1e6:.0f} us", f"{tracked / plain - 1:+.0%}"),
        ],
    )
    write_json(
        RESULTS,
        {
            "record": records,
            "train_step_s": {"plain": plain, "hooks": hooked, "gradient_snr": tracked},
            "versions": versions(["ibkit", "torch", "numpy", "pandas"]),
        },
    )


if __name__ == "__main__":
    main()
