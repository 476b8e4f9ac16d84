"""IB-curve benchmark: ibkit against embo, dit and information-bottleneck, side by side.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_ib_curve.py [--quick]``).
Every tool solves the same 30 β values, log-spaced over [0.1, 100], on each problem:

1. random p(x,y), |X| = 200, |Y| = 10 (rows Dirichlet(1), uniform p(x), seed 0)
2. random p(x,y), |X| = 2000, |Y| = 20 (seed 1)
3. structured: 64 inputs in 4 groups of 16 sharing a random p(y|x) over |Y| = 8 (seed 2)
4. the 12-bit task of Shwartz-Ziv & Tishby (4096 × 2), noise-free labels
5. the same with label noise 0.1

Reported per tool and problem: wall time for the whole 30-β curve (imports and data
conversion excluded; each tool runs in its own subprocess with a time limit, and a peer
that completes no β on a problem is skipped on larger ones), its ratio to ibkit's time,
and the curve quality: the largest shortfall of the tool's I(T;Y) below the best frontier
found by any tool (the upper concave envelope of every point of every tool, plus (0, 0)),
at the tool's own I(X;T), in bits and as a fraction of I(X;Y). For ibkit both its per-β
points and its envelope vertices count. Then ibkit's per-iteration cost against a floor:
one update_encoder step versus one (|X|×|Y|)·(|Y|×|T|) product plus |X|·|T| exponentials.

Then ibkit alone with its automatic β grid (``ib_curve(p_xy)``, ``betas=None``) on the
random problems 1 and 2 and on a random 5000 × 50 joint (seed 4), each in a fresh
subprocess: wall and CPU seconds, peak resident memory of that subprocess (ru_maxrss,
interpreter and numpy included; its value before the call is reported too), the number
of β and the largest |T|, and the frontier against the 30-β frontiers: the largest
shortfall of the automatic envelope below the best 30-β frontier (and the reverse).

Conventions (β scaling per peer, |T| caps, sampling for information-bottleneck) are in
``peers.py``. Results go to ``benchmarks/results/ib_curve.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from peers import (
    TOOLS,
    RunResult,
    Tool,
    distinct_conditionals,
    mutual_information_bits,
    run_tool,
)
from report import finish, print_table, versions

from ibkit.ib import upper_concave_envelope

BETAS = np.logspace(-1, 2, 30)
RESULTS = Path(__file__).resolve().parent / "results" / "ib_curve.json"


# ---------------------------------------------------------------------------
# problems


def random_joint(n_x: int, n_y: int, seed: int) -> np.ndarray:
    """Uniform p(x), each p(y|x) drawn from Dirichlet(1)."""
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.ones(n_y), size=n_x) / n_x


def grouped_joint(n_groups: int, per_group: int, n_y: int, seed: int) -> np.ndarray:
    """Uniform p(x) over n_groups·per_group inputs; each group shares one random p(y|x)."""
    rng = np.random.default_rng(seed)
    cond = rng.dirichlet(np.ones(n_y), size=n_groups)
    return np.repeat(cond, per_group, axis=0) / (n_groups * per_group)


def tishby(label_noise: float) -> np.ndarray:
    from ibkit.datasets import tishby_12bit

    return tishby_12bit(label_noise=label_noise).p_xy


@dataclass(frozen=True)
class Problem:
    key: str
    title: str
    build: Callable[[], np.ndarray]
    in_quick: bool = False


PROBLEMS: tuple[Problem, ...] = (
    Problem("random-200x10", "1. random 200×10", lambda: random_joint(200, 10, 0), True),
    Problem("random-2000x20", "2. random 2000×20", lambda: random_joint(2000, 20, 1)),
    Problem(
        "grouped-64x8", "3. 64 inputs in 4 groups, |Y|=8", lambda: grouped_joint(4, 16, 8, 2), True
    ),
    Problem("tishby-12bit", "4. 12-bit task (4096×2)", lambda: tishby(0.0)),
    Problem("tishby-12bit-noise0.1", "5. 12-bit task, label noise 0.1", lambda: tishby(0.1)),
)


#: Problems of the automatic-grid table (the 30-β table's random ones, plus a large one).
AUTO_BUILDERS: dict[str, Callable[[], np.ndarray]] = {
    "random-200x10": lambda: random_joint(200, 10, 0),
    "random-2000x20": lambda: random_joint(2000, 20, 1),
    "random-5000x50": lambda: random_joint(5000, 50, 4),
}


# ---------------------------------------------------------------------------
# curve quality


def best_frontier(results: dict[str, RunResult]) -> tuple[np.ndarray, np.ndarray]:
    """Upper concave envelope of every point of every tool, plus (0, 0)."""
    pts = [(0.0, 0.0)]
    for res in results.values():
        pts += res.all_points() + [tuple(p) for p in res.extra.get("raw_points", [])]
    x, y = np.array(pts).T
    return upper_concave_envelope(x, y)


def shortfall(points: list[tuple[float, float]], frontier: tuple[np.ndarray, np.ndarray]) -> float:
    """max over points of frontier(I(X;T)) − I(T;Y), in bits (≥ 0 up to rounding)."""
    if not points:
        return float("nan")
    x, y = np.array(points).T
    return float(np.max(np.interp(x, *frontier) - y))


# ---------------------------------------------------------------------------
# per-iteration floor (ibkit internals; may change without notice)


def best_time(fn: Callable[[], Any], min_batch_s: float = 0.1, repeats: int = 5) -> float:
    """Seconds per call: the best of ``repeats`` batches, each at least ``min_batch_s``."""
    fn()
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_batch_s:
            break
        n *= 2
    best = t / n
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def iteration_floor(p_xy: np.ndarray, sizes: list[int], beta: float = 10.0) -> list[dict[str, Any]]:
    """Time one ibkit update_encoder step against a matmul + exp floor, per |T|."""
    from ibkit.ib.iterative import initial_encoder, reduce_problem, update_encoder

    problem = reduce_problem(p_xy)
    n_x, n_y = p_xy.shape
    rng = np.random.default_rng(0)
    rows = []
    for n_t in sizes:
        q = initial_encoder(problem, n_t, 1.0, np.random.default_rng(0))
        a, b, c = rng.random((n_x, n_y)), rng.random((n_y, n_t)), rng.random((n_x, n_t))
        step = best_time(lambda q=q: update_encoder(problem, q, beta, 1.0))
        matmul = best_time(lambda a=a, b=b: a @ b)
        exp = best_time(lambda c=c: np.exp(c))
        floor = matmul + exp
        rows.append(
            {
                "n_x": n_x,
                "n_y": n_y,
                "n_t": n_t,
                "update_ms": 1e3 * step,
                "matmul_ms": 1e3 * matmul,
                "exp_ms": 1e3 * exp,
                "floor_ms": 1e3 * floor,
                "ratio": step / floor,
            }
        )
    return rows


# ---------------------------------------------------------------------------
# ibkit with its automatic grid, one subprocess per problem


def auto_child(key: str) -> None:
    """Subprocess entry: time ``ib_curve(p_xy)`` on one problem and print a JSON line."""
    import warnings

    from ibkit.ib import ib_curve

    p_xy = AUTO_BUILDERS[key]()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        curve = ib_curve(p_xy, random_state=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    record = {
        "seconds": wall,
        "cpu_seconds": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_mb": rss_before / 1024,
        "n_betas": len(curve.betas),
        "max_clusters_used": int(curve.n_clusters.max()),
        "n_not_converged": int((~curve.converged).sum()),
        "i_xy_bits": float(curve.i_xy),
        "reaches_i_xy": bool(curve.i_xy - curve.i_ty.max() <= 1e-4 * curve.i_xy),
        "envelope": {
            "i_xt": curve.envelope_i_xt.tolist(),
            "i_ty": curve.envelope_i_ty.tolist(),
        },
        "warnings": sorted({str(w.message) for w in caught}),
    }
    print(json.dumps(record))


def run_auto(key: str, limit_s: float) -> dict[str, Any]:
    """Run :func:`auto_child` for ``key`` in a fresh interpreter with a time limit."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--auto-child", key]
    print(f"  {key:<34} ibkit automatic grid     ...", end="", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit_s, check=False)
    except subprocess.TimeoutExpired:
        print(f" timeout ({limit_s:.0f} s)", file=sys.stderr, flush=True)
        return {"key": key, "status": "timeout", "seconds": limit_s}
    print(f" done ({time.perf_counter() - t0:.1f} s wall)", file=sys.stderr, flush=True)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return {"key": key, "status": "error", "message": tail[0]}
    return {"key": key, "status": "ok", **json.loads(done.stdout.strip().splitlines()[-1])}


def compare_auto(auto: dict[str, Any], record: dict[str, Any] | None) -> None:
    """Add the frontier comparison with the 30-β table's record of the same problem."""
    if auto["status"] != "ok" or record is None:
        return
    env = np.array(auto["envelope"]["i_xt"]), np.array(auto["envelope"]["i_ty"])
    best = np.array(record["frontier"]["i_xt"]), np.array(record["frontier"]["i_ty"])
    # both are piecewise linear: the gap is largest at a vertex of one of them
    xs = np.union1d(env[0], best[0])
    gap = np.interp(xs, *best) - np.interp(xs, *env)
    auto["shortfall_vs_best_30beta_bits"] = float(gap.max())
    auto["shortfall_vs_best_30beta_frac"] = float(gap.max() / record["i_xy_bits"])
    auto["gain_over_best_30beta_bits"] = float(-gap.min())
    ibkit = record["tools"].get("ibkit", {})
    if ibkit.get("status") == "ok":
        auto["ibkit_30beta_seconds"] = ibkit["seconds"]


def print_auto(autos: list[dict[str, Any]]) -> None:
    header = (
        "problem",
        "auto wall, s",
        "auto CPU, s",
        "30-β ibkit, s",
        "peak RSS, MB",
        "β",
        "max |T|",
        "shortfall vs 30-β best, bits",
    )
    rows = []
    for a in autos:
        if a["status"] != "ok":
            rows.append((a["key"], a["status"], "–", "–", "–", "–", "–", "–"))
            continue
        thirty = a.get("ibkit_30beta_seconds")
        short = a.get("shortfall_vs_best_30beta_bits")
        rows.append(
            (
                a["key"],
                f"{a['seconds']:.1f}",
                f"{a['cpu_seconds']:.1f}",
                "–" if thirty is None else f"{thirty:.1f}",
                f"{a['peak_rss_mb']:.0f} (before {a['rss_before_mb']:.0f})",
                str(a["n_betas"]),
                str(a["max_clusters_used"]),
                "–"
                if short is None
                else f"{short:.5f} ({100 * a['shortfall_vs_best_30beta_frac']:.3f}%)",
            )
        )
    print("\nibkit ib_curve with the automatic β grid (betas=None), one fresh subprocess each")
    print_table(header, rows)


# ---------------------------------------------------------------------------
# running and reporting


def size_of(p_xy: np.ndarray) -> int:
    return int(p_xy.shape[0] * p_xy.shape[1])


def run_all(
    problems: list[Problem], tools: list[Tool], peer_limit: float, ibkit_limit: float
) -> list[dict[str, Any]]:
    """Run every tool on every problem (smallest |X|·|Y| first)."""
    built = {p.key: p.build() for p in problems}
    order = sorted(problems, key=lambda p: size_of(built[p.key]))
    stalled: dict[str, tuple[int, str]] = {}  # tool -> (size, why) once it did 0 β
    records = {}
    for prob in order:
        p_xy = built[prob.key]
        cap = distinct_conditionals(p_xy)
        results: dict[str, RunResult] = {}
        for tool in tools:
            stall = stalled.get(tool.key)
            if tool.is_peer and stall is not None and stall[0] <= size_of(p_xy):
                results[tool.key] = RunResult("skipped", total=len(BETAS), message=stall[1])
                continue
            limit = peer_limit if tool.is_peer else ibkit_limit
            print(f"  {prob.title:<34} {tool.label:<24} ...", end="", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            res = run_tool(tool, p_xy, BETAS, cap, limit)
            wall = time.perf_counter() - t0
            print(f" {res.status} ({wall:.1f} s wall)", file=sys.stderr, flush=True)
            results[tool.key] = res
            if res.status == "unavailable":
                stalled[tool.key] = (0, f"skipped: unavailable ({res.message})")
            elif res.status != "ok" and res.done == 0:
                why = f"skipped: no β done within the limit on the smaller {prob.key}"
                stalled[tool.key] = (size_of(p_xy), why)
        records[prob.key] = summarise(prob, p_xy, cap, results)
    return [records[p.key] for p in problems]


def summarise(
    prob: Problem, p_xy: np.ndarray, cap: int, results: dict[str, RunResult]
) -> dict[str, Any]:
    frontier = best_frontier(results)
    i_xy = mutual_information_bits(p_xy)
    base = results.get("ibkit")
    base_s = base.seconds if base is not None and base.status == "ok" else None
    tools = {}
    for key, res in results.items():
        entry: dict[str, Any] = {
            "status": res.status,
            "beta_done": res.done,
            "beta_total": res.total,
            "progress_unit": res.unit,
            "seconds": res.seconds,
            "last_progress_s": res.last_progress_s,
            "message": res.message,
            "points": res.points,
            "extra": res.extra,
        }
        pts = res.all_points()
        entry["max_shortfall_bits"] = shortfall(pts, frontier) if pts else None
        entry["shortfall_by_group_bits"] = {
            g: shortfall(v, frontier) for g, v in res.points.items() if v
        }
        if entry["max_shortfall_bits"] is not None:
            entry["max_shortfall_frac"] = entry["max_shortfall_bits"] / i_xy
        raw = res.extra.get("raw_points")
        entry["raw_shortfall_bits"] = shortfall(raw, frontier) if raw else None
        entry["time_ratio_vs_ibkit"] = time_ratio(res, base_s)
        tools[key] = entry
    return {
        "key": prob.key,
        "title": prob.title,
        "shape": list(p_xy.shape),
        "t_cap": cap,
        "i_xy_bits": i_xy,
        "frontier": {"i_xt": frontier[0].tolist(), "i_ty": frontier[1].tolist()},
        "tools": tools,
    }


def time_ratio(res: RunResult, base_s: float | None) -> dict[str, Any] | None:
    """Peer time / ibkit time; a lower bound (">") when the peer ran out of time."""
    if base_s is None or res.seconds is None or res.status not in ("ok", "timeout"):
        return None
    return {"value": res.seconds / base_s, "bound": "=" if res.status == "ok" else ">"}


def fmt_time(entry: dict[str, Any]) -> str:
    status, done, total = entry["status"], entry["beta_done"], entry["beta_total"]
    if status == "ok":
        return f"{entry['seconds']:.2f} s"
    if status == "timeout" and entry["seconds"] is not None:
        return f"timeout ({done}/{total} {entry['progress_unit']} in {entry['seconds']:.0f} s)"
    if status == "error" and done:
        return f"error after {done}/{total} β"
    return status


def fmt_ratio(entry: dict[str, Any], is_base: bool) -> str:
    r = entry["time_ratio_vs_ibkit"]
    if is_base:
        return "1" if r else "–"
    if r is None:
        return "–"
    value = f"{r['value']:.3g}" if r["value"] < 100 else f"{r['value']:.0f}"
    return f"{'>' if r['bound'] == '>' else ''}{value}×"


def fmt_shortfall(entry: dict[str, Any]) -> str:
    s = entry["max_shortfall_bits"]
    if s is None:
        return "–"
    partial = "" if entry["status"] == "ok" else f" [{entry['beta_done']} β]"
    return f"{s:.4f} ({100 * entry['max_shortfall_frac']:.1f}%){partial}"


def print_report(
    records: list[dict[str, Any]], labels: dict[str, str], floor: list[dict[str, Any]]
) -> None:
    header = ("tool", "curve time", "÷ ibkit", "max shortfall, bits (% of I(X;Y))")
    for rec in records:
        n_x, n_y = rec["shape"]
        print(
            f"\n{rec['title']}  —  |X|={n_x}, |Y|={n_y}, |T| cap {rec['t_cap']}, "
            f"I(X;Y) = {rec['i_xy_bits']:.4f} bits"
        )
        rows = []
        notes = []
        for key, entry in rec["tools"].items():
            rows.append(
                (
                    labels[key],
                    fmt_time(entry),
                    fmt_ratio(entry, key == "ibkit"),
                    fmt_shortfall(entry),
                )
            )
            if entry["message"]:
                notes.append(f"{labels[key]}: {entry['message']}")
            groups = entry["shortfall_by_group_bits"]
            if key == "ibkit" and groups:
                by = ", ".join(f"{g} {v:.4f}" for g, v in groups.items())
                extra = entry["extra"]
                notes.append(
                    f"ibkit shortfall by group: {by}; β not converged: "
                    f"{extra.get('n_not_converged', '?')}/{len(BETAS)}"
                )
            if entry.get("raw_shortfall_bits") is not None:
                notes.append(
                    f"{labels[key]}: shortfall before its monotonic filter "
                    f"{entry['raw_shortfall_bits']:.4f} bits"
                )
        print_table(header, rows)
        for note in notes:
            print(f"    {note}")
    if floor:
        print(
            "\nibkit per-iteration cost: one update_encoder step vs floor (|X|×|Y|)·(|Y|×|T|) + exp"
        )
        head = ("|X|×|Y|", "|T|", "update, ms", "matmul, ms", "exp, ms", "update ÷ floor")
        rows = [
            (
                f"{r['n_x']}×{r['n_y']}",
                str(r["n_t"]),
                f"{r['update_ms']:.3f}",
                f"{r['matmul_ms']:.3f}",
                f"{r['exp_ms']:.3f}",
                f"{r['ratio']:.1f}",
            )
            for r in floor
        ]
        print_table(head, rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="problems 1 and 3, short limits")
    parser.add_argument("--time-limit", type=float, help="seconds per peer curve (75; quick 10)")
    parser.add_argument("--ibkit-time-limit", type=float, help="seconds for ibkit (300; quick 60)")
    parser.add_argument("--tools", nargs="+", choices=[t.key for t in TOOLS], help="subset")
    parser.add_argument("--problems", nargs="+", choices=[p.key for p in PROBLEMS], help="subset")
    parser.add_argument("--no-floor", action="store_true", help="skip the per-iteration floor")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON output path")
    parser.add_argument(
        "--auto",
        nargs="*",
        choices=list(AUTO_BUILDERS),
        help="automatic-grid problems (default: all; quick: random-200x10; none: skip)",
    )
    parser.add_argument(
        "--auto-time-limit", type=float, default=1800.0, help="seconds per automatic curve"
    )
    parser.add_argument("--auto-child", choices=list(AUTO_BUILDERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.auto_child:
        auto_child(args.auto_child)
        return 0

    peer_limit = args.time_limit or (10.0 if args.quick else 75.0)
    ibkit_limit = args.ibkit_time_limit or (60.0 if args.quick else 300.0)
    problems = [p for p in PROBLEMS if (p.in_quick or not args.quick)]
    if args.problems:
        problems = [p for p in PROBLEMS if p.key in args.problems]
    tools = [t for t in TOOLS if not args.tools or t.key in args.tools or not t.is_peer]
    labels = {t.key: t.label for t in tools}
    vers = versions(["numpy", "scipy", *(t.dist for t in tools)])
    for t in tools:
        labels[t.key] = f"{t.label} {vers[t.dist]}"

    started = time.perf_counter()
    print(
        f"IB-curve benchmark: {len(BETAS)} β log-spaced over [{BETAS[0]:g}, {BETAS[-1]:g}]; "
        f"limits: peers {peer_limit:g} s, ibkit {ibkit_limit:g} s per curve",
        file=sys.stderr,
    )
    records = run_all(problems, tools, peer_limit, ibkit_limit)

    floor: list[dict[str, Any]] = []
    floor_error = None
    if not args.no_floor:
        floor_problems = [p for p in problems if p.key in ("random-200x10", "random-2000x20")]
        try:
            for prob in floor_problems:
                p_xy = prob.build()
                floor += iteration_floor(p_xy, [10, 100, p_xy.shape[0]])
        except (ImportError, TypeError, AttributeError) as exc:  # internals changed
            floor_error = f"{type(exc).__name__}: {exc}"

    auto_keys = args.auto
    if auto_keys is None:
        auto_keys = ["random-200x10"] if args.quick else list(AUTO_BUILDERS)
    by_key = {rec["key"]: rec for rec in records}
    autos = []
    for key in auto_keys:
        auto = run_auto(key, args.auto_time_limit)
        compare_auto(auto, by_key.get(key))
        autos.append(auto)

    print_report(records, labels, floor)
    if floor_error:
        print(f"\nper-iteration floor unavailable: {floor_error}")
    if autos:
        print_auto(autos)
    total = time.perf_counter() - started

    out = {
        "betas": BETAS.tolist(),
        "peer_time_limit_s": peer_limit,
        "ibkit_time_limit_s": ibkit_limit,
        "quick": args.quick,
        "versions": vers,
        "labels": labels,
        "problems": records,
        "iteration_floor": floor,
        "iteration_floor_error": floor_error,
        "automatic_grid": autos,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    finish(args.out, out, total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
