"""Epoch time of the IB classifiers (VIB, NonlinearIB) on the CPU, with 1 and 2 threads.

Run with ``.venv/bin/python benchmarks/bench_vib.py [--quick]``.

Cases (inputs in [0, 1], 10 classes, Adam as in ``train_vib``):

1. VIB on scikit-learn digits (1437 training rows of 64 pixels, batch 100, 15 steps per
   epoch): the digits setup (encoder 256-256, K = 32) and the paper's (1024-1024, K = 256).
   Timed over whole epochs of :func:`ibkit.nn.vib.train_vib`: the training steps of an
   epoch (median over epochs) and, separately, the evaluation pass that ``train_vib`` runs
   after every epoch (the whole training set, 12 code samples per row).
2. VIB on an MNIST-sized synthetic input (60,000 × 784 uniform pixels, random labels),
   the reference architecture 1024-1024, K = 256, batch 100: ``--steps`` training steps
   are timed after 3 warm-up steps and extrapolated to an epoch (600 steps); the
   evaluation pass is timed on 2,000 rows and extrapolated to 60,000.
3. NonlinearIB (encoder 800-800, h of width 2, decoder 800, KDE bound on the batch) on
   the same input at batch sizes 128, 256 and 512, extrapolated from ``--steps`` steps to
   the 60,000 / batch steps of an epoch.

Each case runs with ``torch.set_num_threads(1)`` and ``(2)``. Times are wall-clock
seconds on this machine. Results go to ``benchmarks/results/vib.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from report import print_table, versions, write_json

from ibkit.datasets.files import load_digits
from ibkit.nn.nonlinear_ib import NonlinearIB
from ibkit.nn.vib import StochasticClassifier, VIBClassifier, _evaluate, train_vib

RESULTS = Path(__file__).resolve().parent / "results" / "vib.json"
MNIST_ROWS = 60_000


def _eval_seconds(model: StochasticClassifier, x: torch.Tensor, y: torch.Tensor) -> float:
    """Wall time of the evaluation pass ``train_vib`` runs after an epoch, batches of 100."""
    model.eval()
    start = time.perf_counter()
    _evaluate(model, x, y, 100)
    return time.perf_counter() - start


def _step_seconds(
    model: StochasticClassifier, x: torch.Tensor, y: torch.Tensor, batch: int, steps: int
) -> float:
    """Median wall time of one Adam training step on random batches (after 3 warm-ups)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(0)
    model.train()
    times = []
    for k in range(steps + 3):
        idx = torch.randint(len(y), (batch,), generator=gen)
        start = time.perf_counter()
        out = model.loss(x[idx], y[idx])
        opt.zero_grad(set_to_none=True)
        out.total.backward()
        opt.step()
        if k >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_digits(epochs: int) -> list[dict[str, Any]]:
    x, y = load_digits()
    x, y = x[:1437], y[:1437]
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    rows = []
    for name, encoder, dim in (
        ("digits 256-256 K=32", (256, 256), 32),
        ("digits 1024-1024 K=256", (1024, 1024), 256),
    ):
        torch.manual_seed(0)
        model = VIBClassifier(64, 10, encoder=encoder, dim=dim)
        hist = train_vib(model, x, y, epochs=epochs, lr=1e-3, random_state=0)
        rows.append(
            {
                "case": name,
                "batch": 100,
                "steps_per_epoch": 15,
                "train_s": float(np.median(hist.seconds)),
                "eval_s": _eval_seconds(model, xt, yt),
                "how": f"{epochs} whole epochs",
            }
        )
    return rows


def bench_mnist(steps: int) -> list[dict[str, Any]]:
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(MNIST_ROWS, 784, generator=gen)
    y = torch.randint(10, (MNIST_ROWS,), generator=gen)
    rows = []
    torch.manual_seed(0)
    vib = VIBClassifier(784, 10)
    per_step = _step_seconds(vib, x, y, 100, steps)
    rows.append(
        {
            "case": "MNIST-size VIB 1024-1024 K=256",
            "batch": 100,
            "steps_per_epoch": 600,
            "train_s": per_step * 600,
            "eval_s": _eval_seconds(vib, x[:2000], y[:2000]) * MNIST_ROWS / 2000,
            "how": f"{steps} steps x 600; eval 2,000 rows x 30",
        }
    )
    for batch in (128, 256, 512):
        torch.manual_seed(0)
        nib = NonlinearIB(784, 10)
        n_steps = -(-MNIST_ROWS // batch)
        rows.append(
            {
                "case": "MNIST-size NonlinearIB 800-800-2-800",
                "batch": batch,
                "steps_per_epoch": n_steps,
                "train_s": _step_seconds(nib, x, y, batch, steps) * n_steps,
                "eval_s": float("nan"),
                "how": f"{steps} steps x {n_steps}",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and steps")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per case")
    args = parser.parse_args()
    steps = args.steps or (10 if args.quick else 30)
    epochs = 2 if args.quick else 4

    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for row in bench_digits(epochs) + bench_mnist(steps):
            results.append({"threads": threads, **row})
            print(f"  done: {row['case']} batch {row['batch']}, {threads} thread(s)", flush=True)

    header = ("case", "batch", "threads", "train s/epoch", "eval s/epoch", "timed as")
    table = [
        (
            r["case"],
            str(r["batch"]),
            str(r["threads"]),
            f"{r['train_s']:.3g}",
            "-" if np.isnan(r["eval_s"]) else f"{r['eval_s']:.3g}",
            r["how"],
        )
        for r in results
    ]
    print()
    print_table(header, table)
    one = {(r["case"], r["batch"]): r["train_s"] for r in results if r["threads"] == 1}
    print("\n  speed-up of 2 threads over 1 (training steps):")
    for r in results:
        if r["threads"] == 2:
            ratio = one[(r["case"], r["batch"])] / r["train_s"]
            print(f"    {r['case']}, batch {r['batch']}: {ratio:.2f}x")
    write_json(
        RESULTS,
        {"benchmark": "vib", "results": results, "versions": versions(["torch", "numpy", "ibkit"])},
    )
    print(f"\n  results: {RESULTS}")


if __name__ == "__main__":
    main()
