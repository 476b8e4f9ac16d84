"""Noisy-layer estimators ``kde`` and ``noisy_mc``: speed on the information plane, accuracy.

Run with ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kde.py [--quick]
[--baseline OLD.json]`` (one BLAS thread: the information-plane study runs one layer per
core). ``--baseline`` takes the JSON of an earlier run (another commit) and adds its
``kde float32`` and ``noisy_mc`` times and the speed-ups to the speed table.

1. **Speed.** One layer-epoch of the information plane, i.e. one ``plane_point`` call
   (both I(X;T) and I(T;Y)), on the 4096 inputs of the 12-bit task (Shwartz-Ziv &
   Tishby 2017), for random tanh layers of width 10, 5 and 3 (weights N(0, 1/12)) and
   saturated versions of them (pre-activations scaled by 300, so that many rows repeat
   exactly), at noise variance σ² = 1e-3 and 0.1. Timed: ``kde`` in float32 (default)
   and float64, and ``noisy_mc`` with n_mc = 1 (its cost grows linearly with n_mc); the
   best of ``--repeats`` calls. The float32 − float64 column is the largest difference
   of the four KDE bounds, in bits. The floor is the float32 product of the m distinct
   rows with themselves and one float32 exponential per entry, over the 512 x 512 tiles
   on and above the diagonal (the kernels are symmetric, and the KL kernel is the fourth
   power of the Bhattacharyya one): the least work any pairwise KDE must do.
2. **Accuracy against quadrature.** A 1-D layer taking a few distinct values on equally
   likely inputs, plus N(0, σ²) noise: I(X;T̃) = H(T̃) − ½ log(2πeσ²) and
   I(T̃;Y) = H(T̃) − Σ_c p(c) H(T̃ | Y=c), every entropy of a Gaussian mixture computed
   by adaptive quadrature (``scipy.integrate.quad``, breakpoints at the components).
   Reported: the KDE bounds (for I(X;T̃) they must bracket the truth; for I(T̃;Y) the two
   values are estimates, not bounds) and the ``noisy_mc`` value (n_mc = 200, a new seed
   per σ²) with its standard error and its error.

Results go to ``benchmarks/results/kde.json``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from report import default_repeats, finish, print_markdown, quick_parser, show_table, versions
from scipy.integrate import quad
from scipy.special import logsumexp

from ibkit.datasets import tishby_12bit
from ibkit.estimators import get_estimator

RESULTS = Path(__file__).resolve().parent / "results" / "kde.json"
LN2 = float(np.log(2.0))

WIDTHS = (10, 5, 3)
NOISE = (1e-3, 0.1)
SATURATING_GAIN = 300.0

#: the 1-D accuracy layer: distinct values, how many inputs map to each, and their labels
VALUES = np.array([-0.9, -0.3, 0.0, 0.4, 1.0])
COUNTS = np.array([6, 10, 4, 8, 4])
LABELS = np.array([0, 0, 1, 1, 1])
ACCURACY_NOISE = (1e-3, 1e-2, 0.03, 0.1, 0.3, 1.0)


# ---------------------------------------------------------------------------
# speed


def layers(quick: bool) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Random tanh layers of the 12-bit inputs (name -> activations) and the labels."""
    task = tishby_12bit()
    x = np.asarray(task.x, dtype=float) - 0.5
    rng = np.random.default_rng(0)
    out = {}
    for width in WIDTHS[:1] if quick else WIDTHS:
        pre = x @ (rng.normal(size=(x.shape[1], width)) / np.sqrt(x.shape[1]))
        out[f"tanh {width}"] = np.tanh(pre)
        out[f"saturated tanh {width}"] = np.tanh(SATURATING_GAIN * pre)
    return out, np.asarray(task.y)


def best_time(run: Any, repeats: int) -> tuple[float, Any]:
    best, value = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - t0)
    return best, value


def floor_seconds(t: np.ndarray, repeats: int, chunk_size: int = 512) -> float:
    """The KDE floor: the float32 Gram product of the m distinct rows and one
    exponential per entry, over the estimator's tiles on and above the diagonal."""
    values = np.unique(t, axis=0).astype(np.float32)
    m = values.shape[0]
    arg = np.full((chunk_size, chunk_size), -1.0, dtype=np.float32)

    def run() -> None:
        for start in range(0, m, chunk_size):
            for col in range(start, m, chunk_size):
                block = values[start : start + chunk_size] @ values[col : col + chunk_size].T
                np.exp(arg[: block.shape[0], : block.shape[1]], out=block)

    return best_time(run, repeats)[0]


def speed(quick: bool, repeats: int) -> list[dict[str, Any]]:
    acts, y = layers(quick)
    x_labels = np.arange(y.size)
    rows = []
    for s2 in NOISE:
        for name, t in acts.items():
            row: dict[str, Any] = {
                "layer": name,
                "noise_variance": s2,
                "distinct_rows": int(np.unique(t, axis=0).shape[0]),
            }
            points = {}
            for label, method, params in (
                ("kde float32", "kde", {}),
                ("kde float64", "kde", {"dtype": "float64"}),
                ("noisy_mc n_mc=1", "noisy_mc", {"n_mc": 1}),
            ):
                est = get_estimator(method, noise_variance=s2, **params)
                seconds, point = best_time(
                    lambda est=est, t=t: est.plane_point(t, x_labels, y, random_state=0),
                    repeats,
                )
                row[label] = seconds
                points[label] = point
            row["floor"] = floor_seconds(t, repeats)
            single, double = points["kde float32"], points["kde float64"]
            row["float32_error_bits"] = max(
                abs(getattr(a, k) - getattr(b, k))
                for a, b in zip(single, double, strict=True)
                for k in ("lower", "upper")
            )
            row["i_xt_bits"] = [single[0].lower, single[0].upper]
            row["i_ty_bits"] = [single[1].lower, single[1].upper]
            ms = 1e3 * row["kde float32"]
            print(f"  speed {name:<18} σ²={s2:<6g} {ms:.0f} ms", file=sys.stderr)
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------
# accuracy


def mixture_entropy(means: np.ndarray, weights: np.ndarray, s2: float) -> float:
    """Differential entropy (nats) of the 1-D mixture sum_k w_k N(m_k, s2), by quadrature."""
    sd = np.sqrt(s2)
    log_w = np.log(weights / weights.sum())

    def integrand(z: float) -> float:
        log_p = logsumexp(log_w - 0.5 * (z - means) ** 2 / s2) - 0.5 * np.log(2 * np.pi * s2)
        return -np.exp(log_p) * log_p

    # Each component's own window, so that narrow components are never stepped over.
    edges = np.unique(np.concatenate([means - 12 * sd, means + 12 * sd]))
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inner = means[(means > lo) & (means < hi)]
        total += quad(integrand, lo, hi, points=inner if inner.size else None, limit=500)[0]
    return total


def true_plane_point(s2: float) -> tuple[float, float]:
    """(I(X;T̃), I(T̃;Y)) in nats for the 1-D accuracy layer."""
    h_t = mixture_entropy(VALUES, COUNTS.astype(float), s2)
    i_xt = h_t - 0.5 * np.log(2 * np.pi * np.e * s2)
    n_y = np.array([COUNTS[LABELS == c].sum() for c in (0, 1)], dtype=float)
    h_t_given_y = sum(
        n_y[c] / n_y.sum() * mixture_entropy(VALUES[LABELS == c], COUNTS[LABELS == c], s2)
        for c in (0, 1)
    )
    return i_xt, h_t - h_t_given_y


def accuracy() -> list[dict[str, Any]]:
    t = np.repeat(VALUES, COUNTS)[:, None]
    y = np.repeat(LABELS, COUNTS)
    x_labels = np.arange(t.shape[0])
    rows = []
    for seed, s2 in enumerate(ACCURACY_NOISE):
        truth = true_plane_point(s2)
        kde = get_estimator("kde", noise_variance=s2).plane_point(t, x_labels, y, units="nats")
        mc = get_estimator("noisy_mc", noise_variance=s2, n_mc=200).plane_point(
            t, x_labels, y, units="nats", random_state=seed
        )
        for coord, true, k, m in zip(("I(X;T)", "I(T;Y)"), truth, kde, mc, strict=True):
            rows.append(
                {
                    "noise_variance": s2,
                    "quantity": coord,
                    "truth_bits": true / LN2,
                    "kde_lower_bits": k.lower / LN2,
                    "kde_upper_bits": k.upper / LN2,
                    "bracketed": bool(k.lower <= true <= k.upper),
                    "mc_bits": m.value / LN2,
                    "mc_std_error_bits": m.std_error / LN2,
                }
            )
    return rows


# ---------------------------------------------------------------------------
# reporting


def add_baseline(rows: list[dict[str, Any]], path: Path) -> None:
    """Add the times of an earlier run (its JSON at ``path``) to the matching rows."""
    old = {(r["layer"], r["noise_variance"]): r for r in json.loads(path.read_text())["speed"]}
    for row in rows:
        before = old.get((row["layer"], row["noise_variance"]))
        if before is not None:
            row["baseline"] = {k: before[k] for k in ("kde float32", "noisy_mc n_mc=1")}


def speed_table(rows: list[dict[str, Any]]) -> str:
    header = (
        "layer",
        "σ²",
        "distinct rows",
        "kde float32",
        "kde float64",
        "noisy_mc n_mc=1",
        "float32 − float64 (bits)",
        "floor",
        "kde float32 / floor",
    )
    body = [
        (
            r["layer"],
            f"{r['noise_variance']:g}",
            str(r["distinct_rows"]),
            f"{1e3 * r['kde float32']:.0f} ms",
            f"{1e3 * r['kde float64']:.0f} ms",
            f"{1e3 * r['noisy_mc n_mc=1']:.0f} ms",
            f"{r['float32_error_bits']:.1e}",
            f"{1e3 * r['floor']:.0f} ms",
            f"{r['kde float32'] / r['floor']:.1f}",
        )
        for r in rows
    ]
    if any("baseline" in r for r in rows):
        header += ("kde float32 before", "speed-up", "noisy_mc before", "speed-up")
        body = [cells + baseline_cells(r) for cells, r in zip(body, rows, strict=True)]
    title = "\nOne plane_point (I(X;T) and I(T;Y)) at n = 4096, best of repeats"
    return show_table(title, header, body)


def baseline_cells(row: dict[str, Any]) -> tuple[str, ...]:
    """The earlier run's times for this row and the speed-ups (blank without them)."""
    if "baseline" not in row:
        return ("", "", "", "")
    cells: tuple[str, ...] = ()
    for key in ("kde float32", "noisy_mc n_mc=1"):
        before = row["baseline"][key]
        cells += (f"{1e3 * before:.0f} ms", f"{before / row[key]:.1f}x")
    return cells


def accuracy_table(rows: list[dict[str, Any]]) -> str:
    header = ("σ²", "quantity", "truth", "kde lower", "kde upper", "noisy_mc ± se", "mc error")
    body = [
        (
            f"{r['noise_variance']:g}",
            r["quantity"],
            f"{r['truth_bits']:.4f}",
            f"{r['kde_lower_bits']:.4f}",
            f"{r['kde_upper_bits']:.4f}",
            f"{r['mc_bits']:.4f} ± {r['mc_std_error_bits']:.4f}",
            f"{r['mc_bits'] - r['truth_bits']:+.4f}",
        )
        for r in rows
    ]
    return show_table("\n1-D noisy layer against quadrature (bits)", header, body)


def main(argv: list[str] | None = None) -> int:
    parser = quick_parser(__doc__.split("\n")[0], RESULTS, "width 10 only, 1 repeat")
    parser.add_argument(
        "--baseline", type=Path, help="JSON of an earlier run, for before/after columns"
    )
    args = parser.parse_args(argv)
    repeats = default_repeats(args)

    started = time.perf_counter()
    speed_rows = speed(args.quick, repeats)
    if args.baseline is not None:
        add_baseline(speed_rows, args.baseline)
    accuracy_rows = accuracy()
    total = time.perf_counter() - started

    speed_md = speed_table(speed_rows)
    accuracy_md = accuracy_table(accuracy_rows)
    print_markdown(speed_md, accuracy_md)
    finish(
        args.out,
        {
            "quick": args.quick,
            "repeats": repeats,
            "versions": versions(("ibkit", "numpy", "scipy")),
            "speed": speed_rows,
            "accuracy": accuracy_rows,
            "speed_markdown": speed_md,
            "accuracy_markdown": accuracy_md,
        },
        total,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
