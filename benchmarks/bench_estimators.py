"""Estimator benchmark: ibkit's MI estimators (and scikit-learn's) on ground-truth tasks.

Run with ``.venv/bin/python benchmarks/bench_estimators.py [--quick]``.
Methods: ibkit ``ksg`` (k=3, columns standardised: the default), ``gaussian``,
``binning`` (its default: b = max(2, round((n/5)^(1/d))) equal-mass bins per coordinate,
d = d_x + d_y, joint symbols in several dimensions), ``binning`` with ``n_bins=30``
(the uniform grid of the information-plane studies) and, on 1-D tasks only,
``sklearn.feature_selection.mutual_info_regression`` (n_neighbors=3; it handles a
single target, and its nats are converted to bits), plus ibkit's neural
estimators ``infonce``, ``nwj`` and ``mine`` (steps=300, hidden=(32, 32),
batch_size=128) on the 1-D tasks and the 5-D Gaussian task only (elsewhere "–").
Tasks, from :mod:`ibkit.datasets`:

1. gaussian 1-D, ρ = 0.8
2. gaussian 5-D, ρ = 0.5 on every coordinate
3. gaussian 20-D, sparse (ρ = 0.8 on the first 4 coordinates)
4. cube of task 1 (same I(X;Y); not Gaussian any more)
5. Student-t 1-D, ν = 3, ρ = 0.8
6. independent 1-D and 7. independent 5-D (I(X;Y) = 0)

each at n = 1000 and 5000 over 3 seeds (``--quick``: n = 1000, 2 seeds, tasks 1, 2, 4
and 6). Reported per (task, n, method): the true I(X;Y) in bits, the mean estimate,
its bias, the standard deviation over seeds and the mean wall time per call (after
one untimed warm-up call per method). A method that raises on a task is recorded with
its error and skipped there; a method whose call takes longer than ``--slow`` seconds
(20) is skipped at larger n on that task. Below the table, the mean absolute error of
the methods that run on every task, over the rows where all of them ran (in bits and
nats). ``--methods`` runs a subset of the methods.
Results go to ``benchmarks/results/estimators.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from report import finish, markdown_table, print_table, versions

from ibkit.datasets import (
    GroundTruthTask,
    gaussian_task,
    independent_task,
    student_t_task,
    transformed_task,
)
from ibkit.estimators import get_estimator

RESULTS = Path(__file__).resolve().parent / "results" / "estimators.json"
LN2 = float(np.log(2.0))


# ---------------------------------------------------------------------------
# tasks and methods


@dataclass(frozen=True)
class Task:
    key: str
    title: str
    build: Callable[[], GroundTruthTask]
    in_quick: bool = False


TASKS: tuple[Task, ...] = (
    Task("gauss-1d", "gaussian 1-D ρ=0.8", lambda: gaussian_task(1, 0.8), True),
    Task("gauss-5d", "gaussian 5-D ρ=0.5", lambda: gaussian_task(5, 0.5), True),
    Task(
        "gauss-20d-sparse",
        "gaussian 20-D sparse ρ=0.8",
        lambda: gaussian_task(20, 0.8, sparse=True),
    ),
    Task(
        "cube-gauss-1d",
        "cube(gaussian 1-D ρ=0.8)",
        lambda: transformed_task(gaussian_task(1, 0.8), "cube"),
        True,
    ),
    Task("student-t-1d", "student-t 1-D ν=3 ρ=0.8", lambda: student_t_task(1, 0.8, 3.0)),
    Task("indep-1d", "independent 1-D", lambda: independent_task(1), True),
    Task("indep-5d", "independent 5-D", lambda: independent_task(5)),
)


@dataclass(frozen=True)
class Method:
    key: str
    label: str
    #: (x, y, seed) -> estimate in bits
    run: Callable[[np.ndarray, np.ndarray, int], float]
    only_1d: bool = False
    #: task keys the method runs on (None: all tasks, subject to ``only_1d``)
    tasks: frozenset[str] | None = None

    def applies_to(self, task_key: str, dim: int) -> bool:
        if self.only_1d and dim != 1:
            return False
        return self.tasks is None or task_key in self.tasks


def ibkit_method(name: str, **params: Any) -> Callable[[np.ndarray, np.ndarray, int], float]:
    """An ibkit estimator as a method; built on first call (the neural ones import torch)."""

    def run(x: np.ndarray, y: np.ndarray, seed: int) -> float:
        est = get_estimator(name, **params)
        return est.estimate(x, y, units="bits", random_state=seed).value

    return run


def sklearn_mi(x: np.ndarray, y: np.ndarray, seed: int) -> float:
    from sklearn.feature_selection import mutual_info_regression

    nats = mutual_info_regression(x, y.ravel(), n_neighbors=3, random_state=seed)
    return float(nats[0]) / LN2


#: the neural estimators' settings, and the tasks they run on (not the 20-D one, for time)
NEURAL_PARAMS: dict[str, Any] = {"steps": 300, "hidden": (32, 32), "batch_size": 128}
NEURAL_TASKS = frozenset({"gauss-1d", "gauss-5d", "cube-gauss-1d", "student-t-1d", "indep-1d"})

#: ibkit's classical estimators, also compared with benchmark-mi in bench_bmi.py
CLASSICAL: tuple[Method, ...] = (
    Method("ksg", "ibkit ksg (k=3, standardised)", ibkit_method("ksg", k=3)),
    Method("gaussian", "ibkit gaussian", ibkit_method("gaussian")),
    Method(
        "binning",
        "ibkit binning (default: max(2, round((n/5)^(1/d))) equal-mass bins per coordinate)",
        ibkit_method("binning"),
    ),
)

METHODS: tuple[Method, ...] = (
    *CLASSICAL,
    Method(
        "bin30",
        "ibkit binning (n_bins=30: the information-plane grid over each variable's range)",
        ibkit_method("binning", n_bins=30),
    ),
    Method("sklearn", "sklearn mutual_info_regression (k=3)", sklearn_mi, only_1d=True),
    *(
        Method(
            name,
            f"ibkit {name} (steps=300, hidden=(32, 32), batch_size=128)",
            ibkit_method(name, **NEURAL_PARAMS),
            tasks=NEURAL_TASKS,
        )
        for name in ("infonce", "nwj", "mine")
    ),
)


# ---------------------------------------------------------------------------
# running


def run_cell(method: Method, task: GroundTruthTask, n: int, seeds: list[int]) -> dict[str, Any]:
    """All seeds of one (task, n, method); stops at the first error."""
    values, times = [], []
    for seed in seeds:
        x, y = task.sample(n, random_state=seed)
        t0 = time.perf_counter()
        try:
            v = method.run(x, y, seed)
        except Exception as exc:  # noqa: BLE001 - recorded, the benchmark goes on
            return {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
        times.append(time.perf_counter() - t0)
        values.append(v)
    truth = task.mi("bits")
    arr = np.array(values)
    return {
        "status": "ok",
        "message": None,
        "values_bits": values,
        "mean_bits": float(arr.mean()),
        "bias_bits": float(arr.mean() - truth),
        "std_bits": float(arr.std(ddof=1)) if arr.size > 1 else 0.0,
        "mean_seconds": float(np.mean(times)),
        "max_seconds": float(np.max(times)),
    }


def run_all(
    tasks: list[Task],
    ns: list[int],
    seeds: list[int],
    slow: float,
    methods: tuple[Method, ...] = METHODS,
) -> list[dict[str, Any]]:
    warm_x, warm_y = gaussian_task(1, 0.5).sample(200, random_state=0)
    for method in methods:  # imports and first-call costs stay out of the timings
        try:
            method.run(warm_x, warm_y, 0)
        except Exception:  # noqa: BLE001, S110 - the real run records the error
            pass
    records = []
    for spec in tasks:
        task = spec.build()
        truth = task.mi("bits")
        skip: dict[str, str] = {}  # method -> why, once it errored or was slow
        for n in ns:
            cells: dict[str, Any] = {}
            for method in methods:
                if not method.applies_to(spec.key, task.dim):
                    continue
                if method.key in skip:
                    cells[method.key] = {"status": "skipped", "message": skip[method.key]}
                    continue
                print(f"  {spec.title:<28} n={n:<5} {method.key:<9} ...", end="", file=sys.stderr)
                cell = run_cell(method, task, n, seeds)
                if cell["status"] == "ok":
                    print(
                        f" {cell['mean_bits']:.3f} bits ({cell['mean_seconds']:.2f} s/call)",
                        file=sys.stderr,
                    )
                    if cell["max_seconds"] > slow:
                        skip[method.key] = f"skipped: a call took > {slow:g} s at smaller n"
                else:
                    print(f" {cell['message']}", file=sys.stderr)
                    skip[method.key] = f"skipped: raised at smaller n ({cell['message']})"
                cells[method.key] = cell
            records.append(
                {
                    "task": spec.key,
                    "title": spec.title,
                    "name": task.name,
                    "dim": task.dim,
                    "n": n,
                    "truth_bits": truth,
                    "methods": cells,
                }
            )
    return records


# ---------------------------------------------------------------------------
# reporting


def fmt_time(s: float) -> str:
    return f"{1e3 * s:.1f} ms" if s < 1 else f"{s:.2f} s"


def print_report(records: list[dict[str, Any]]) -> None:
    header = ("task", "n", "method", "truth", "mean", "bias", "std", "time/call")
    rows, notes = [], []
    for rec in records:
        for key, cell in rec["methods"].items():
            base = (rec["title"], str(rec["n"]), key, f"{rec['truth_bits']:.4f}")
            if cell["status"] == "ok":
                rows.append(
                    base
                    + (
                        f"{cell['mean_bits']:.4f}",
                        f"{cell['bias_bits']:+.4f}",
                        f"{cell['std_bits']:.4f}",
                        fmt_time(cell["mean_seconds"]),
                    )
                )
            else:
                rows.append(base + (cell["status"], "–", "–", "–"))
                notes.append(f"{rec['title']}, n={rec['n']}, {key}: {cell['message']}")
    print("\nEstimates in bits (mean, bias and std over seeds)")
    print_table(header, rows)
    for note in notes:
        print(f"    {note}")


def markdown(records: list[dict[str, Any]], methods: tuple[Method, ...] = METHODS) -> str:
    keys = [m.key for m in methods if any(m.key in r["methods"] for r in records)]
    rows = []
    for rec in records:
        cells = []
        for key in keys:
            cell = rec["methods"].get(key)
            if cell is None:
                cells.append("–")
            elif cell["status"] == "ok":
                cells.append(
                    f"{cell['mean_bits']:.3f}±{cell['std_bits']:.3f} "
                    f"({fmt_time(cell['mean_seconds'])})"
                )
            else:
                cells.append(cell["status"])
        rows.append((rec["title"], str(rec["n"]), f"{rec['truth_bits']:.3f}", *cells))
    return markdown_table(("task", "n", "truth", *keys), rows)


def mean_abs_errors(records: list[dict[str, Any]], keys: list[str]) -> tuple[dict[str, float], int]:
    """Mean |estimate - truth| in bits of each method in ``keys``, over the rows where all
    of them ran, and the number of those rows."""
    rows = [r for r in records if all(r["methods"].get(k, {}).get("status") == "ok" for k in keys)]
    errors = {
        k: float(np.mean([abs(r["methods"][k]["bias_bits"]) for r in rows])) if rows else np.nan
        for k in keys
    }
    return errors, len(rows)


def error_summary(records: list[dict[str, Any]], keys: list[str]) -> tuple[str, dict[str, Any]]:
    """A line of mean absolute errors (bits and nats) of ``keys``, and the same as JSON."""
    keys = [k for k in keys if any(k in r["methods"] for r in records)]
    errors, n_rows = mean_abs_errors(records, keys)
    cells = ", ".join(f"{k} {v:.3f} bits ({v * LN2:.3f} nats)" for k, v in errors.items())
    line = f"Mean |error| over the {n_rows} rows where all of them ran: {cells}."
    return line, {"rows": n_rows, "bits": errors}


def grid_parser(description: str, results: Path) -> argparse.ArgumentParser:
    """Options choosing the (task, n, seed) grid and the JSON path (shared with bench_bmi)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="n=1000, 2 seeds, 4 tasks")
    parser.add_argument("--n", type=int, nargs="+", help="sample sizes (1000 5000; quick 1000)")
    parser.add_argument("--seeds", type=int, help="number of seeds (3; quick 2)")
    parser.add_argument("--tasks", nargs="+", choices=[t.key for t in TASKS], help="subset")
    parser.add_argument("--slow", type=float, default=20.0, help="seconds; skip larger n after")
    parser.add_argument("--methods", nargs="+", help="run only these method keys")
    parser.add_argument("--out", type=Path, default=results, help="JSON output path")
    return parser


def grid(args: argparse.Namespace) -> tuple[list[int], list[int], list[Task]]:
    """Sample sizes, seeds and tasks chosen by the options of :func:`grid_parser`."""
    ns = sorted(args.n or ([1000] if args.quick else [1000, 5000]))
    seeds = list(range(args.seeds or (2 if args.quick else 3)))
    tasks = [t for t in TASKS if t.in_quick or not args.quick]
    if args.tasks:
        tasks = [t for t in TASKS if t.key in args.tasks]
    return ns, seeds, tasks


def chosen(methods: tuple[Method, ...], keys: list[str] | None) -> tuple[Method, ...]:
    """The methods named by ``--methods`` (all when None), refusing unknown keys."""
    unknown = set(keys or ()) - {m.key for m in methods}
    if unknown:
        raise SystemExit(f"unknown --methods {sorted(unknown)}; known: {[m.key for m in methods]}")
    return tuple(m for m in methods if keys is None or m.key in keys)


def report_estimates(
    args: argparse.Namespace,
    ns: list[int],
    seeds: list[int],
    methods: tuple[Method, ...],
    records: list[dict[str, Any]],
    vers: dict[str, str],
    summary_keys: list[str],
) -> dict[str, Any]:
    """Print the estimates (table, markdown and the mean absolute errors of
    ``summary_keys``); return them as the JSON payload's start."""
    print_report(records)
    md = markdown(records, methods)
    summary, errors = error_summary(records, summary_keys)
    print("\nMarkdown (mean±std over seeds in bits, mean time per call):\n")
    print(md)
    print(f"\n{summary}")
    return {
        "quick": args.quick,
        "n": ns,
        "seeds": seeds,
        "slow_s": args.slow,
        "methods": {m.key: m.label for m in methods},
        "versions": vers,
        "records": records,
        "markdown": md,
        "mean_abs_error": errors,
    }


def main(argv: list[str] | None = None) -> int:
    args = grid_parser(__doc__.split("\n")[0], RESULTS).parse_args(argv)
    ns, seeds, tasks = grid(args)
    vers = versions(("ibkit", "numpy", "scipy", "scikit-learn"))

    started = time.perf_counter()
    print(f"Estimator benchmark: n in {ns}, seeds {seeds}", file=sys.stderr)
    methods = chosen(METHODS, args.methods)
    records = run_all(tasks, ns, seeds, args.slow, methods)
    total = time.perf_counter() - started

    everywhere = [m.key for m in methods if m.tasks is None and not m.only_1d]
    out = report_estimates(args, ns, seeds, methods, records, vers, everywhere)
    finish(args.out, out, total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
