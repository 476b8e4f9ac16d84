"""Matrix-based Rényi estimator ``renyi``: one layer-epoch of the information plane.

Run with ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_renyi.py [--quick]``
(one BLAS thread: the information-plane study runs one layer per core).

Timed: one ``plane_point`` call (both I(X;T) and I(T;Y)) on the 4096 inputs of the
12-bit task (Shwartz-Ziv & Tishby 2017) for a random tanh layer of 512 units (weights
N(0, 1/12)) and a saturated version of it (pre-activations scaled by 300, so that rows
repeat and the spectra are degenerate), with each kernel-width rule and two batch sizes:
the full Gram matrix (``batch_size = n``) and the default 1000 (four batches of 1000
rows, 96 rows left out). The best of ``--repeats`` calls is reported, with the values
(bits) to show that the batch size changes them: every entropy of a batch of b rows is
at most log2 b.

The floor is the least work of any exact matrix-based estimate: one symmetric
eigendecomposition (``scipy.linalg.eigvalsh``, eigenvalues only) of each batch's Gram
matrix of the layer. The class labels add one eigendecomposition per class block (two
blocks of about half the rows, a quarter of the floor's cost), and distinct inputs add
nothing (their joint Gram matrix is diagonal).

``--quick`` is a smoke run: 1024 of the inputs, batch sizes 1024 and 256, the silverman
rule, one call. Results go to ``benchmarks/results/renyi.json``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from report import default_repeats, finish, print_markdown, quick_parser, show_table, versions
from scipy.linalg import eigvalsh

from ibkit.datasets import tishby_12bit
from ibkit.estimators import get_estimator
from ibkit.estimators.renyi import _gaussian_gram

RESULTS = Path(__file__).resolve().parent / "results" / "renyi.json"

WIDTH = 512
SATURATING_GAIN = 300.0


def layers(n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The tanh layer and its saturated version on ``n`` of the 12-bit inputs, and labels."""
    task = tishby_12bit()
    rng = np.random.default_rng(0)
    rows = np.sort(rng.permutation(task.x.shape[0])[:n])
    x = np.asarray(task.x, dtype=float)[rows] - 0.5
    pre = x @ (rng.normal(size=(x.shape[1], WIDTH)) / np.sqrt(x.shape[1]))
    acts = {
        f"tanh {WIDTH}": np.tanh(pre),
        f"saturated tanh {WIDTH}": np.tanh(SATURATING_GAIN * pre),
    }
    return acts, np.asarray(task.y)[rows]


def best_time(run: Any, repeats: int) -> tuple[float, Any]:
    best, value = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - t0)
    return best, value


def floor_seconds(t: np.ndarray, rule: str, batch_size: int, repeats: int) -> float:
    """One ``eigvalsh`` of the Gram matrix of the first ``batch_size`` rows, times the
    number of batches."""
    gram = _gaussian_gram(t[:batch_size], rule)
    seconds, _ = best_time(lambda: eigvalsh(gram, check_finite=False), repeats)
    return seconds * (t.shape[0] // batch_size)


def speed(quick: bool, repeats: int) -> list[dict[str, Any]]:
    n = 1024 if quick else 4096
    acts, y = layers(n)
    x_labels = np.arange(n)
    rows = []
    for name, t in acts.items():
        for rule in ("silverman",) if quick else ("silverman", "knn"):
            for batch_size in (n, 256) if quick else (n, 1000):
                est = get_estimator("renyi", kernel_width=rule, batch_size=batch_size)
                seconds, (i_xt, i_ty) = best_time(
                    lambda est=est, t=t: est.plane_point(t, x_labels, y, random_state=0),
                    repeats,
                )
                row = {
                    "layer": name,
                    "n": n,
                    "distinct_rows": int(np.unique(t, axis=0).shape[0]),
                    "kernel_width": rule,
                    "batch_size": batch_size,
                    "seconds": seconds,
                    "floor": floor_seconds(t, rule, batch_size, repeats),
                    "i_xt_bits": i_xt.value,
                    "i_ty_bits": i_ty.value,
                }
                print(
                    f"  {name:<20} {rule:<9} batch {batch_size:<5} {seconds:.2f} s",
                    file=sys.stderr,
                )
                rows.append(row)
    return rows


def speed_table(rows: list[dict[str, Any]]) -> str:
    header = (
        "layer",
        "distinct rows",
        "kernel_width",
        "batch_size",
        "plane_point",
        "floor (eigvalsh)",
        "plane_point / floor",
        "I(X;T) bits",
        "I(T;Y) bits",
        "log2 batch",
    )
    body = [
        (
            r["layer"],
            str(r["distinct_rows"]),
            r["kernel_width"],
            str(r["batch_size"]),
            f"{r['seconds']:.2f} s",
            f"{r['floor']:.2f} s",
            f"{r['seconds'] / r['floor']:.1f}",
            f"{r['i_xt_bits']:.3f}",
            f"{r['i_ty_bits']:.3f}",
            f"{np.log2(r['batch_size']):.3f}",
        )
        for r in rows
    ]
    title = f"\nOne plane_point (I(X;T) and I(T;Y)) at n = {rows[0]['n']}, best of repeats"
    return show_table(title, header, body)


def main(argv: list[str] | None = None) -> int:
    parser = quick_parser(__doc__.split("\n")[0], RESULTS, "1024 inputs, 1 call (smoke run)")
    args = parser.parse_args(argv)
    repeats = default_repeats(args)

    started = time.perf_counter()
    rows = speed(args.quick, repeats)
    total = time.perf_counter() - started
    markdown = speed_table(rows)
    print_markdown(markdown)
    finish(
        args.out,
        {
            "quick": args.quick,
            "repeats": repeats,
            "versions": versions(("ibkit", "numpy", "scipy")),
            "speed": rows,
            "speed_markdown": markdown,
        },
        total,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
