"""Information-plane recorder benchmark: the cost of one ``record`` and of an attached recorder.

Run with ``.venv/bin/python benchmarks/bench_plane.py [--quick]``.
The network is the 12-10-7-5-4-3-2 tanh MLP of Shwartz-Ziv & Tishby (2017) with random
weights, probed on all 4096 inputs of the 12-bit task (six layers: five hidden and the
softmax output). Reported, with ``torch.set_num_threads(1)``:

- one ``InformationPlane.record`` per estimator (binning with 30 bins on each layer's
  range, binning on [-1, 1], KDE bounds with sigma^2 = 1e-3), median of 3, split into the
  forward pass (hooks copying activations to CPU buffers) and the estimation
  (``plane_point`` of every layer), for one MLP, and with binning for an
  ``EnsembleMLP`` of 10 seeds (60 rows per record);
- one training step (forward + backward, batch 256, autograd) without the recorder, with
  the recorder attached (it hooks the model only during its own passes), and with
  gradient SNR tracking (tensor hooks on the weights);
- at image scale, one record of a two-block convolutional net (32 and 64 channels of
  3x3 convolutions, each with ReLU and 2x2 max pooling, a 256-unit dense layer, 10
  outputs; recorded layers of 25,088, 12,544, 256 and 10 units) on n = 10,000 synthetic
  28x28 inputs (1,000 with ``--quick``), probe batches of 500 rows, per estimator
  (binning, kde, renyi): seconds, the recorder's largest buffer, and the peak resident
  memory of a fresh process that does just that record (``ru_maxrss``);
- binning alone on the widest of those layers, 1,000 x 25,088 float32 activations of the
  first convolution block, in a fresh process, per grid (the default equal-mass bins, 30
  bins on the layer's range, bins of width 0.07): CPU and wall seconds of one
  ``plane_point`` and the peak memory it allocated (``tracemalloc``), the layer itself
  (98 MiB) not counted.

Results go to ``benchmarks/results/plane.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
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


def conv_net() -> nn.Module:
    """The image-scale network: two conv blocks (32, 64 channels), 256 dense units, 10 outputs."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 256),
        nn.ReLU(),
        nn.Linear(256, 10),
    )


def image_record(estimator: str, n: int) -> dict[str, float]:
    """One record of :func:`conv_net` on ``n`` synthetic 28x28 inputs, in this process."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n)
    with InformationPlane(conv_net(), x, y, estimator, batch_size=500) as plane:
        start = time.perf_counter()
        plane.record(0)
        seconds = time.perf_counter() - start
    return {
        "record_s": seconds,
        "forward_s": plane.last_timing["forward"],
        "peak_buffer_mb": plane.peak_buffer_bytes / 2**20,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10,  # KiB on Linux
    }


#: The grids of the wide-layer binning case, by label.
WIDE_GRIDS = {"default": {}, "30 bins": {"n_bins": 30}, "width 0.07": {"bin_size": 0.07}}


def wide_binning(grid: str, n: int) -> dict[str, float]:
    """Binning alone on the (n, 25,088) first ReLU block of :func:`conv_net`, in this
    process: CPU and wall seconds, and the peak bytes it allocated."""
    import tracemalloc

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((n, 1, 28, 28), dtype=np.float32))
    with torch.no_grad():
        t = conv_net()[:2](x).reshape(n, -1).numpy()
    y = rng.integers(0, 10, n)
    est = get_estimator("binning", **WIDE_GRIDS[grid])
    est.plane_point(t[:50, :8], np.arange(50), y[:50])  # warm-up: lazy imports (scipy.stats)
    tracemalloc.start()
    cpu, wall = time.process_time(), time.perf_counter()
    est.plane_point(t, np.arange(n), y)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"cpu_s": cpu, "wall_s": wall, "peak_alloc_mb": peak / 2**20, "width": t.shape[1]}


def image_records(estimators: list[str], n: int) -> list[dict[str, object]]:
    """:func:`image_record` of each estimator in a fresh process, so maxrss is its own."""
    records = []
    for estimator in estimators:
        out = subprocess.run(
            [sys.executable, __file__, "--image-case", estimator, "--n", str(n)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        records.append({"estimator": estimator, "n": n, **json.loads(out.splitlines()[-1])})
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="binning only, fewer repeats")
    parser.add_argument("--image-case", help=argparse.SUPPRESS)  # one image record, as JSON
    parser.add_argument("--wide-case", help=argparse.SUPPRESS)  # one wide binning, as JSON
    parser.add_argument("--n", type=int, default=10_000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.image_case:
        print(json.dumps(image_record(args.image_case, args.n)))
        return
    if args.wide_case:
        print(json.dumps(wide_binning(args.wide_case, args.n)))
        return
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
        attached = step_time(model, steps)
    with InformationPlane(model, task.x, task.y, "binning", track_gradients=True):
        tracked = step_time(model, steps)
    print("\nTraining step (forward + backward, batch 256) of the MLP")
    print_table(
        ("recorder", "step", "overhead"),
        [
            ("none", f"{plain * 1e6:.0f} us", "-"),
            ("attached", f"{attached * 1e6:.0f} us", f"{attached / plain - 1:+.0%}"),
            ("+ gradient SNR", f"{tracked * 1e6:.0f} us", f"{tracked / plain - 1:+.0%}"),
        ],
    )
    n_image = 1_000 if args.quick else 10_000
    image = image_records(["binning"] if args.quick else ["binning", "kde", "renyi"], n_image)
    print(f"\nImage scale: one record of the conv net on n = {n_image} 28x28 inputs, 1 thread")
    print_table(
        ("estimator", "record", "forward", "largest buffer", "peak RSS"),
        [
            (
                r["estimator"],
                f"{r['record_s']:.1f} s",
                f"{r['forward_s']:.1f} s",
                f"{r['peak_buffer_mb']:.0f} MiB",
                f"{r['maxrss_mb']:.0f} MiB",
            )
            for r in image
        ],
    )
    wide = []
    for grid in WIDE_GRIDS:
        out = subprocess.run(
            [sys.executable, __file__, "--wide-case", grid, "--n", "1000"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        wide.append({"grid": grid, "n": 1000, **json.loads(out.splitlines()[-1])})
    print("\nBinning alone on 1,000 x 25,088 conv activations, 1 thread")
    print_table(
        ("grid", "CPU", "wall", "peak allocated"),
        [
            (
                r["grid"],
                f"{r['cpu_s']:.2f} s",
                f"{r['wall_s']:.2f} s",
                f"{r['peak_alloc_mb']:.0f} MiB",
            )
            for r in wide
        ],
    )
    write_json(
        RESULTS,
        {
            "record": records,
            "image_record": image,
            "wide_binning": wide,
            "train_step_s": {"plain": plain, "attached": attached, "gradient_snr": tracked},
            "versions": versions(["ibkit", "torch", "numpy", "pandas"]),
        },
    )


if __name__ == "__main__":
    main()
