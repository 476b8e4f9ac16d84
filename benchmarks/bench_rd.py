"""Rate–distortion curves: ibkit's ``rd_curve`` against dit's Blahut–Arimoto, with truth.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_rd.py [--quick]``).

Sources under Hamming distortion, whose curves are known in closed form (bits):

1. Bernoulli(0.2): R(D) = H(0.2) − H(D) for D ≤ 0.2, 0 beyond
2. Bernoulli(0.5): R(D) = 1 − H(D) for D ≤ 0.5
3. uniform on 4 letters: R(D) = 2 − H(D) − D log2 3 for D ≤ 3/4
4. uniform on 16 letters: R(D) = 4 − H(D) − D log2 15 for D ≤ 15/16

Every tool solves the same slopes: dit's ``RDCurve(dist, beta_min=0.1, beta_max=10,
beta_num=101, distortion=hamming, method=...)`` (dit's defaults but for beta_min, as
ibkit needs β > 0). dit's Blahut–Arimoto updates with 2^(−β·d)
(``dit/rate_distortion/blahut_arimoto.py``), so ibkit, whose update is e^(−β·d), gets
β·ln 2. dit computes the curve in the constructor, with 100 restarts of at most 100
iterations per β, stopping when the distortion settles to ``np.isclose``; its ``sp``
method (scipy.optimize) is timed too, in the full run.

Reported per source and tool: wall time for the curve (construction of dit's
Distribution excluded; ibkit best of ``--repeats``), its ratio to ibkit's time on the
same slopes, and the largest error |R − R(D)| in bits over the tool's points, each against the
closed form at the tool's own distortion (every achievable point lies on or above the
curve, so this is the excess rate). ibkit with its automatic β grid is listed too, with
the error of its frontier (``rate_at``) over 201 distortions spanning the curve.

``--quick`` is a smoke run: the first and third sources, 11 slopes, no ``sp``. Results
go to ``benchmarks/results/rd.json``.
"""

from __future__ import annotations

import math
import string
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from report import default_repeats, finish, print_markdown, quick_parser, show_table, versions
from scipy.special import xlogy

from ibkit.rd import rd_curve

RESULTS = Path(__file__).resolve().parent / "results" / "rd.json"
LN2 = math.log(2.0)

#: (name, source distribution); every source is under Hamming distortion.
SOURCES = [
    ("Bernoulli(0.2)", np.array([0.8, 0.2])),
    ("Bernoulli(0.5)", np.array([0.5, 0.5])),
    ("uniform, 4 letters", np.full(4, 1 / 4)),
    ("uniform, 16 letters", np.full(16, 1 / 16)),
]
QUICK_SOURCES = (0, 2)


def h2(d: np.ndarray) -> np.ndarray:
    """Binary entropy in bits."""
    return -(xlogy(d, d) + xlogy(1 - d, 1 - d)) / LN2


def true_rate(p_x: np.ndarray, d: np.ndarray) -> np.ndarray:
    """R(D) in bits under Hamming distortion of a Bernoulli or a uniform source."""
    d = np.asarray(d, dtype=float)
    m = len(p_x)
    if m == 2:
        d_max = float(p_x.min())
        rate = h2(p_x[0]) - h2(np.clip(d, 0.0, 1.0))
    else:
        d_max = (m - 1) / m
        rate = np.log2(m) - h2(np.clip(d, 0.0, 1.0)) - d * np.log2(m - 1)
    return np.where(d < d_max, rate, 0.0)


def max_error(p_x: np.ndarray, distortion: np.ndarray, rate: np.ndarray) -> float:
    """Largest |R − R(D)| in bits over points (D, R)."""
    return float(np.max(np.abs(rate - true_rate(p_x, distortion))))


def timed(run: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """The result of ``run`` and its best wall time over ``repeats`` calls."""
    best, out = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - start)
    return out, best


def ibkit_rows(name: str, p_x: np.ndarray, dit_betas: np.ndarray, repeats: int) -> list[dict]:
    """ibkit on dit's slopes (converted to nats) and on its own automatic grid."""
    d = 1.0 - np.eye(len(p_x))
    same, seconds = timed(lambda: rd_curve(p_x, d, dit_betas * LN2), repeats)
    auto, auto_seconds = timed(lambda: rd_curve(p_x, d), repeats)
    grid = np.linspace(auto.d_min, auto.d_max, 201)
    return [
        {
            "source": name,
            "tool": "ibkit rd_curve",
            "points": len(same.betas),
            "seconds": seconds,
            "max_rate_error_bits": max_error(p_x, same.distortion, same.rate),
            "converged": bool(same.converged.all()),
        },
        {
            "source": name,
            "tool": "ibkit rd_curve (automatic β)",
            "points": len(auto.betas),
            "seconds": auto_seconds,
            "max_rate_error_bits": max_error(p_x, auto.distortion, auto.rate),
            "frontier_error_bits": float(np.max(np.abs(auto.rate_at(grid) - true_rate(p_x, grid)))),
            "converged": bool(auto.converged.all()),
        },
    ]


def dit_row(name: str, p_x: np.ndarray, dit_betas: np.ndarray, method: str) -> dict:
    """dit's RDCurve on the same slopes; its (D, R) points against the closed form."""
    import dit
    from dit.rate_distortion import RDCurve, hamming

    dist = dit.Distribution(list(string.ascii_letters[: len(p_x)]), p_x.tolist())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        curve = RDCurve(
            dist,
            beta_min=float(dit_betas[0]),
            beta_max=float(dit_betas[-1]),
            beta_num=len(dit_betas),
            distortion=hamming,
            method=method,
        )
        seconds = time.perf_counter() - start
    return {
        "source": name,
        "tool": f"dit RDCurve ({method})",
        "points": len(curve.rates),
        "seconds": seconds,
        "max_rate_error_bits": max_error(p_x, np.asarray(curve.distortions), curve.rates),
    }


def run(quick: bool, repeats: int) -> list[dict]:
    dit_betas = np.linspace(0.1, 10.0, 11 if quick else 101)
    methods = ("ba",) if quick else ("ba", "sp")
    rows = []
    for k, (name, p_x) in enumerate(SOURCES):
        if quick and k not in QUICK_SOURCES:
            continue
        ours = ibkit_rows(name, p_x, dit_betas, repeats)
        peers = [dit_row(name, p_x, dit_betas, method) for method in methods]
        for row in [*ours, *peers]:
            row["ratio_to_ibkit"] = row["seconds"] / ours[0]["seconds"]
            print(f"  {name:<20} {row['tool']:<30} {row['seconds']:.3f} s", file=sys.stderr)
        rows += [*ours, *peers]
    return rows


def table(rows: list[dict]) -> str:
    header = (
        "source",
        "tool",
        "points",
        "time",
        "× ibkit",
        "max error of R (bits)",
        "frontier error (bits)",
    )
    body = [
        (
            r["source"],
            r["tool"],
            str(r["points"]),
            f"{r['seconds']:.3f} s",
            f"{r['ratio_to_ibkit']:.1f}",
            f"{r['max_rate_error_bits']:.1e}",
            f"{r['frontier_error_bits']:.1e}" if "frontier_error_bits" in r else "",
        )
        for r in rows
    ]
    title = "\nRate–distortion curves under Hamming distortion, against the closed form"
    return show_table(title, header, body)


def main(argv: list[str] | None = None) -> int:
    parser = quick_parser(
        __doc__.split("\n")[0],
        RESULTS,
        "two sources, 11 slopes",
        "timings of ibkit per cell (3; quick 1)",
    )
    args = parser.parse_args(argv)
    repeats = default_repeats(args)

    started = time.perf_counter()
    rows = run(args.quick, repeats)
    total = time.perf_counter() - started
    markdown = table(rows)
    print_markdown(markdown)
    finish(
        args.out,
        {
            "quick": args.quick,
            "repeats": repeats,
            "versions": versions(("ibkit", "dit", "numpy", "scipy")),
            "rows": rows,
            "markdown": markdown,
        },
        total,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
