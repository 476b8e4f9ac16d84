"""Adapters that run ibkit and peer IB solvers on one joint p(x,y), for bench_ib_curve.py.

Each adapter has the signature ``adapter(p_xy, betas, cap, rec)``: it does its imports
and data preparation, calls ``rec.start()`` (the clock starts there), solves the β values
in ascending order and reports after each one with ``rec.progress(...)``, then calls
``rec.finish(...)``. Points are (I(X;T), I(T;Y)) in bits. ``run_tool`` runs an adapter in
a fresh ``spawn`` subprocess so that a peer that is too slow can be stopped at a time
limit (its finished β values are kept) and one that exhausts memory cannot take the
benchmark down with it.

Conventions, checked against each peer's source (versions in the JSON output):

- β is the IB trade-off of ibkit, L = I(X;T) − β·I(T;Y), with the self-consistent update
  p(t|x) ∝ p(t)·exp(−β·KL_nats[p(y|x) ‖ p(y|t)]); it does not depend on the unit of the
  informations.
- embo 1.1.0 (``embo/core.py``, ``elementwise_l``) updates p(t|x) ∝ p(t)·exp(−β·KL_bits)
  (``embo/utils.py::kl_divergence`` divides by ln 2), so embo's β is ours times ln 2.
- dit's ``InformationBottleneck`` minimises I[X:T] + β·(I[X:Y] − I[Y:T]) (all in bits), so
  its β is ours; the Blahut–Arimoto variant updates with 2^(−β·KL_bits), again ours.
- information-bottleneck 1.3.0 updates with exp(−β·KL_nats) (``np.log``), ours.
- |T| cap: every tool gets the same cap as ibkit's default, the number of distinct
  conditionals p(y|x) (|X| for the random problems), where it has such a parameter
  (embo ``pm_size``, dit ``bound``, information-bottleneck ``n_clusters``).
"""

from __future__ import annotations

import inspect
import math
import multiprocessing as mp
import os
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ibkit.ib.iterative import reduce_problem
from ibkit.measures import mutual_information_nats

Point = tuple[float, float]
Points = dict[str, list[Point]]  # named groups of points, e.g. {"per-β": [...]}
Adapter = Callable[[np.ndarray, np.ndarray, int, "Recorder"], None]

LN2 = math.log(2.0)


# ---------------------------------------------------------------------------
# information measures (numpy only, in bits)


def mutual_information_bits(joint: np.ndarray) -> float:
    """I(A;B) in bits of a 2-D joint pmf."""
    return mutual_information_nats(np.asarray(joint, dtype=float)) / LN2


def encoder_point(p_xy: np.ndarray, p_t_given_x: np.ndarray) -> Point:
    """(I(X;T), I(T;Y)) in bits of an encoder p(t|x) (rows normalised here)."""
    q = np.asarray(p_t_given_x, dtype=float)
    q = q / q.sum(axis=1, keepdims=True)
    p_xt = p_xy.sum(axis=1)[:, None] * q
    p_ty = q.T @ p_xy
    return mutual_information_bits(p_xt), mutual_information_bits(p_ty)


def distinct_conditionals(p_xy: np.ndarray) -> int:
    """Number of distinct rows p(y|x) (ibkit's default |T| cap)."""
    return reduce_problem(p_xy / p_xy.sum()).n_inputs


def samples_from_joint(p_xy: np.ndarray, max_per_x: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Integer samples (x, y) whose empirical joint is p(x,y), or close to it.

    Uses the smallest n ≤ ``max_per_x`` samples per x (for uniform p(x)) that represents
    every p(y|x) exactly, otherwise ``max_per_x``; counts per row by largest remainder.
    Every x gets at least one sample, so encoder rows line up with x = 0..|X|-1.
    """
    n_x = p_xy.shape[0]
    p_x = p_xy.sum(axis=1)
    cond = p_xy / p_x[:, None]
    per_x = max_per_x
    for n in range(1, max_per_x + 1):
        if np.allclose(cond * n, np.round(cond * n), atol=1e-9):
            per_x = n
            break
    xs, ys = [], []
    for x in range(n_x):
        total = max(1, round(p_x[x] * n_x * per_x))
        raw = cond[x] * total
        counts = np.floor(raw).astype(int)
        counts[np.argsort(counts - raw)[: total - counts.sum()]] += 1
        xs.append(np.full(total, x))
        ys.append(np.repeat(np.arange(p_xy.shape[1]), counts))
    return np.concatenate(xs), np.concatenate(ys)


# ---------------------------------------------------------------------------
# child side: progress reporting


class Recorder:
    """Sends the adapter's progress to the parent; the clock starts at :meth:`start`."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._t0: float | None = None

    def elapsed(self) -> float:
        return 0.0 if self._t0 is None else time.perf_counter() - self._t0

    def start(self) -> None:
        self._t0 = time.perf_counter()
        self._conn.send({"event": "start"})

    def progress(
        self, done: int, total: int, points: Points | None = None, unit: str = "β"
    ) -> None:
        """``points`` (when given) replaces everything reported before."""
        msg = {"event": "progress", "done": done, "total": total, "unit": unit}
        msg["elapsed"] = self.elapsed()
        if points is not None:
            msg["points"] = _plain(points)
        self._conn.send(msg)

    def finish(self, points: Points, extra: dict[str, Any] | None = None) -> None:
        elapsed = self.elapsed()
        msg = {"event": "done", "elapsed": elapsed, "points": _plain(points), "extra": extra or {}}
        self._conn.send(msg)


def _plain(points: Points) -> Points:
    return {k: [(float(a), float(b)) for a, b in v] for k, v in points.items()}


# ---------------------------------------------------------------------------
# adapters


def run_ibkit(p_xy: np.ndarray, betas: np.ndarray, cap: int, rec: Recorder) -> None:
    """ibkit ``ib_curve(p_xy, betas)`` (deterministic annealing, one call for all β)."""
    from ibkit.ib import ib_curve

    rec.start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        curve = ib_curve(
            p_xy,
            betas,
            random_state=0,
            progress=lambda done, total: rec.progress(done, total, unit="progress steps"),
        )
    points = {
        "per-β": list(zip(curve.i_xt, curve.i_ty, strict=True)),
        "envelope": list(zip(curve.envelope_i_xt, curve.envelope_i_ty, strict=True)),
    }
    extra = {
        "n_clusters": curve.n_clusters.tolist(),
        "n_not_converged": int((~curve.converged).sum()),
        "i_xy_reported": float(curve.i_xy),
        "warnings": sorted({str(w.message) for w in caught}),
    }
    rec.finish(points, extra)


def run_embo(p_xy: np.ndarray, betas: np.ndarray, cap: int, rec: Recorder) -> None:
    """embo: ``InformationBottleneck.beta_iter`` once per β, embo's own defaults.

    ``beta_iter`` is the per-β worker of embo's ``IB()``; it is called directly because
    ``IB()`` only sweeps a linear β grid (and starts a process pool for it). embo's
    ``IB()`` then drops points that would make the curve non-monotonic
    (``embo.utils.compute_upper_bound``); the same filter is applied here, so the points
    are those embo would return. embo reports I's in bits from its encoder, exactly.
    """
    from embo import InformationBottleneck
    from embo.utils import compute_upper_bound

    defaults = inspect.signature(InformationBottleneck.IB).parameters
    restarts = defaults["restarts"].default
    iterations = defaults["iterations"].default
    rtol = defaults["rtol"].default
    p_x = p_xy.sum(axis=1)
    p_y = p_xy.sum(axis=0)
    p_y_given_x = p_xy.T / p_x  # embo's layout: pyx_c[y, x]
    rec.start()
    raw: list[Point] = []
    for k, beta in enumerate(betas, start=1):
        i_x, i_y, _, _ = InformationBottleneck.beta_iter(
            1, beta * LN2, p_x, p_y, p_y_given_x, cap, restarts, iterations, rtol=rtol
        )
        raw.append((float(i_x), float(i_y)))
        kept, _ = compute_upper_bound([r[0] for r in raw], [r[1] for r in raw])
        rec.progress(k, len(betas), {"per-β": [tuple(row) for row in kept]})
    kept, _ = compute_upper_bound([r[0] for r in raw], [r[1] for r in raw])
    rec.finish({"per-β": [tuple(row) for row in kept]}, {"raw_points": raw})


def _per_beta(
    solve: Callable[[float], Point], betas: np.ndarray, rec: Recorder
) -> tuple[Points, dict[str, Any]]:
    """Solve β by β (ascending), reporting after each."""
    points: list[Point] = []
    for k, beta in enumerate(betas, start=1):
        points.append(solve(float(beta)))
        rec.progress(k, len(betas), {"per-β": points})
    return {"per-β": points}, {}


def run_dit(p_xy: np.ndarray, betas: np.ndarray, cap: int, rec: Recorder) -> None:
    """dit: ``dit.rate_distortion.InformationBottleneck.functional()`` per β.

    This is the optimiser behind ``IBCurve(method="sp")`` (dit's default): scipy
    minimisation with shotgun restarts and basin hopping over p(t|x); it returns
    (I[X:T], I[Y:T]) in bits. ``IBCurve`` itself only sweeps a linear β grid.
    """
    import dit
    from dit.rate_distortion import InformationBottleneck

    dist = dit.Distribution.from_ndarray(p_xy)
    solve = InformationBottleneck.functional()
    rec.start()

    def one(beta: float) -> Point:
        complexity, relevance = solve(dist, beta, bound=cap)
        return float(complexity), float(relevance)

    rec.finish(*_per_beta(one, betas, rec))


def run_dit_ba(p_xy: np.ndarray, betas: np.ndarray, cap: int, rec: Recorder) -> None:
    """dit: ``blahut_arimoto_ib`` per β (the solver of ``IBCurve(method="ba")``).

    It has no |T| parameter (|T| = |X|) and returns p(x,y,t); I's computed here.
    Observed with dit 2.3: it returns the trivial encoder (I(X;T) = I(T;Y) = 0) at every
    β, even on a 3×2 joint, with a negative reported rate; and it needs minutes per β at
    |X| = 64 (250 restarts, a Python loop over all (x, t) pairs per iteration).
    """
    from dit.rate_distortion.bottleneck_algorithms import blahut_arimoto_ib

    p_x = p_xy.sum(axis=1)
    rec.start()

    def one(beta: float) -> Point:
        _, q_xyt = blahut_arimoto_ib(p_xy, beta)
        return encoder_point(p_xy, q_xyt.sum(axis=1) / p_x[:, None])

    rec.finish(*_per_beta(one, betas, rec))


def run_information_bottleneck(
    p_xy: np.ndarray, betas: np.ndarray, cap: int, rec: Recorder
) -> None:
    """information-bottleneck (PyPI): ``InformationBottleneck(n_clusters, beta).fit(X, Y)``.

    The wheel installs its package as ``src.information_bottleneck``. It only fits
    samples, so p(x,y) is turned into samples (:func:`samples_from_joint`); the I's are
    computed here from its encoder ``p_z_given_x`` under the exact p(x,y), not taken from
    its own (sample-based, ε-smoothed) estimates.
    Observed with 1.3.0: ``fit`` assigns p(z|x) after, not inside, its loop over z
    (``core/classical_ib.py`` line 617), so only the last cluster's column is ever
    updated and the encoder stays at its random initialisation (I(T;Y) ≈ 0 at every β).
    Its ``__init__`` imports seaborn, which the wheel does not declare.
    """
    from src.information_bottleneck import InformationBottleneck

    x, y = samples_from_joint(p_xy)
    rec.start()

    def one(beta: float) -> Point:
        model = InformationBottleneck(n_clusters=cap, beta=beta, random_seed=0)
        model.fit(x, y)
        return encoder_point(p_xy, model.p_z_given_x)

    rec.finish(*_per_beta(one, betas, rec))


@dataclass(frozen=True)
class Tool:
    key: str
    label: str
    dist: str  # distribution name, for the version
    adapter: Adapter
    is_peer: bool = True


TOOLS: tuple[Tool, ...] = (
    Tool("ibkit", "ibkit ib_curve", "ibkit", run_ibkit, is_peer=False),
    Tool("embo", "embo", "embo", run_embo),
    Tool("dit", "dit (sp)", "dit", run_dit),
    Tool("dit-ba", "dit (BA)", "dit", run_dit_ba),
    Tool("ib-pypi", "information-bottleneck", "information-bottleneck", run_information_bottleneck),
)
_ADAPTERS = {tool.key: tool.adapter for tool in TOOLS}


# ---------------------------------------------------------------------------
# parent side: run one tool on one problem in a subprocess, with a time limit


@dataclass
class RunResult:
    status: str  # ok | timeout | error | unavailable | skipped
    done: int = 0
    total: int = 0
    unit: str = "β"
    seconds: float | None = None  # whole-curve time (ok) or time limit (timeout)
    last_progress_s: float | None = None
    points: Points = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    def all_points(self) -> list[Point]:
        return [p for group in self.points.values() for p in group]


def _child_main(
    key: str, p_xy: np.ndarray, betas: np.ndarray, cap: int, conn: Any, mem: int
) -> None:
    """Subprocess entry: silence output, cap memory, run one adapter."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # peers print banners and per-iteration logs
    os.dup2(devnull, 2)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    except (ImportError, ValueError, OSError):  # pragma: no cover - platform dependent
        pass
    warnings.simplefilter("ignore")
    np.random.seed(0)  # noqa: NPY002 - the peers draw their initialisations from it
    rec = Recorder(conn)
    try:
        _ADAPTERS[key](p_xy, betas, cap, rec)
    except ImportError as exc:
        conn.send({"event": "unavailable", "message": f"{type(exc).__name__}: {exc}"})
    except BaseException as exc:  # report anything, including MemoryError
        where = traceback.extract_tb(exc.__traceback__)[-1]
        text = f"{type(exc).__name__}: {exc} ({os.path.basename(where.filename)}:{where.lineno})"
        conn.send({"event": "error", "message": text, "elapsed": rec.elapsed()})
    finally:
        conn.close()


def memory_cap_bytes() -> int:
    """Address-space cap for a peer subprocess: half the RAM, at most 8 GiB."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        ram = 16 << 30
    return int(min(ram // 2, 8 << 30))


def run_tool(
    tool: Tool,
    p_xy: np.ndarray,
    betas: Sequence[float],
    cap: int,
    limit_s: float,
    setup_limit_s: float = 180.0,
) -> RunResult:
    """Run ``tool`` on ``p_xy`` in a subprocess; stop it ``limit_s`` after its clock starts."""
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    args = (tool.key, p_xy, np.asarray(betas, dtype=float), cap, send, memory_cap_bytes())
    proc = ctx.Process(target=_child_main, args=args, daemon=True)
    proc.start()
    send.close()
    res = RunResult(status="error", total=len(betas))
    deadline = time.monotonic() + setup_limit_s
    started = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            res.status = "timeout"
            res.seconds = limit_s if started else None
            if not started:
                res.message = f"setup (imports, data) took over {setup_limit_s:.0f} s"
            break
        if not recv.poll(min(remaining, 0.5)):
            if not proc.is_alive() and not recv.poll(0.1):
                res.message = f"subprocess died (exit code {proc.exitcode})"
                break
            continue
        try:
            msg = recv.recv()
        except EOFError:
            res.message = f"subprocess died (exit code {proc.exitcode})"
            break
        event = msg["event"]
        if event == "start":
            started = True
            deadline = time.monotonic() + limit_s
        elif event == "progress":
            res.done, res.total, res.unit = msg["done"], msg["total"], msg["unit"]
            res.last_progress_s = msg["elapsed"]
            if "points" in msg:
                res.points = msg["points"]
        elif event == "done":
            res.status, res.seconds = "ok", msg["elapsed"]
            res.done, res.total, res.unit = len(betas), len(betas), "β"
            res.points, res.extra = msg["points"], msg["extra"]
            break
        else:  # error | unavailable
            res.status, res.message = event, msg["message"]
            res.seconds = msg.get("elapsed")
            break
    if proc.is_alive():
        proc.kill()
    proc.join()
    recv.close()
    return res
