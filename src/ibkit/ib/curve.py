r"""The IB curve: the frontier of I(T;Y) against I(X;T) over all encoders.

:func:`ib_curve` traces the frontier by deterministic annealing (Rose 1998; the IB
version in Slonim's thesis, 2002, and Zaslavsky & Tishby 2019): β rises from 1, where
the trivial encoder is optimal (I(T;Y) ≤ I(X;T) makes the objective ≥ 0 for β ≤ 1), and
at each β every cluster is split in two, the copies leaning towards different members,
before the self-consistent equations are iterated from the previous solution. Copies
that do not separate are merged back, so the number of distinct clusters grows only at
the phase transitions of the problem. A second pass walks β back down from the minimal
sufficient statistic (the β → ∞ solution); at each β the solution with the lower
objective is kept, and a last pass re-solves any β at which another solution scores
better (the optimum at β must beat every achievable point on I(X;T) − β·I(T;Y)).

The Lagrangian only reaches the points where the frontier is strictly concave. Any
point on a chord between two achievable points is achievable too, by using one encoder
or the other at random (the mixture's I(X;T) is no larger than the chord, its I(T;Y) is
equal), so the curve reported is the upper concave envelope of every solution found,
together with (0, 0) and the minimal sufficient statistic (I(X;X̃), I(X;Y)), after
Pareto filtering. When Y is a deterministic function of X the Lagrangian finds only
those corners and the envelope is exactly the true curve I(T;Y) = min(I(X;T), H(Y))
(Kolchinsky, Tracey & Van Kuyk 2019).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ibkit._validation import (
    ConvergenceWarning,
    InvalidParameterError,
    Progress,
    check_array,
    check_callback,
    check_int,
    check_positive,
    check_random_state,
    check_units,
    from_nats,
)
from ibkit.ib._result import CurveResult, IBResult, evaluate_encoder
from ibkit.ib.iterative import (
    ReducedProblem,
    check_alpha,
    check_n_clusters,
    decoder,
    iterate,
    prepare_joint,
    reduce_problem,
    update_encoder,
)
from ibkit.measures import entropy_nats, mutual_information_nats

__all__ = ["IBCurve", "ib_curve", "upper_concave_envelope"]


def upper_concave_envelope(i_xt: Any, i_ty: Any) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the upper concave envelope of points, up to the highest I(T;Y).

    The envelope is the smallest concave, non-decreasing function lying above every
    point (the Pareto frontier of achievable points under mixing). Returned vertices are
    sorted by I(X;T); points to the right of the highest I(T;Y) are dominated and dropped.
    """
    x = check_array(i_xt, "i_xt", ndim=1)
    y = check_array(i_ty, "i_ty", ndim=1)
    if x.shape != y.shape:
        raise InvalidParameterError(
            f"i_xt and i_ty must hold one value per point; got {x.size} and {y.size} values"
        )
    order = np.lexsort((-y, x))
    hull: list[tuple[float, float]] = []
    for px, py in zip(x[order], y[order], strict=True):
        if hull and px == hull[-1][0]:
            continue  # same I(X;T): the first one has the largest I(T;Y)
        while len(hull) >= 2:
            (ax, ay), (bx, by) = hull[-2], hull[-1]
            # drop b when it lies on or below the chord from a to the new point
            if (bx - ax) * (py - ay) - (by - ay) * (px - ax) >= 0:
                hull.pop()
            else:
                break
        hull.append((px, py))
    hx, hy = np.array(hull).T
    top = int(np.argmax(hy))
    return hx[: top + 1], hy[: top + 1]


@dataclass(frozen=True, eq=False)
class IBCurve(CurveResult):
    """The IB curve of a joint distribution.

    Per-β arrays (ascending β) describe the Lagrangian solution kept at each β; the
    ``envelope_*`` arrays are the vertices of the frontier, the upper concave envelope of
    every solution found (see the module docstring). Values are in ``units``. Shares
    ``to_frame()`` (one row per β), ``to_dict()`` and ``plot()`` with the other curve
    results (:class:`~ibkit.ib.CurveResult`).

    Attributes
    ----------
    betas, i_xt, i_ty, h_t, objective : ndarray
        β and the solution kept at that β.
    n_clusters : ndarray of int
        Distinct clusters in use in each solution.
    envelope_i_xt, envelope_i_ty : ndarray
        Frontier vertices, from (0, 0) to the minimal sufficient statistic (to the best
        solution found when ``max_clusters`` caps |T| below its size).
    critical_betas : ndarray
        Estimated β of each phase transition (where the number of clusters first grows
        past its previous maximum): the geometric mean of the two grid values that
        bracket it.
    i_xy, h_y, h_x : float
        I(X;Y), H(Y) and H(X) of the problem.
    deterministic : bool
        True when Y is a function of X (then the frontier is min(I(X;T), H(Y))).
    alpha : float
        1 for IB, 0 for the deterministic IB (then the x-axis quantity H(T) equals
        I(X;T) for every solution).
    n_iter : ndarray of int
        Iterations of the solve that produced each kept solution.
    converged : ndarray of bool
        Whether the solver met its tolerance at each β.
    note : str
        A sentence on how to read the curve.
    """

    betas: np.ndarray
    i_xt: np.ndarray
    i_ty: np.ndarray
    h_t: np.ndarray
    objective: np.ndarray
    n_clusters: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    envelope_i_xt: np.ndarray
    envelope_i_ty: np.ndarray
    critical_betas: np.ndarray
    i_xy: float
    h_x: float
    h_y: float
    deterministic: bool
    alpha: float
    units: str
    note: str
    _problem: ReducedProblem = field(repr=False)
    _encoders: tuple[np.ndarray, ...] = field(repr=False)

    _COLUMNS: ClassVar[dict[str, str]] = {
        "beta": "betas",
        "i_xt": "i_xt",
        "i_ty": "i_ty",
        "h_t": "h_t",
        "objective": "objective",
        "n_clusters": "n_clusters",
        "converged": "converged",
    }
    _PLOT: ClassVar[str] = "plot_ib_curve"

    def solution(self, index: int) -> IBResult:
        """The full :class:`IBResult` (encoder over the original X) at ``betas[index]``."""
        n = len(self.betas)
        if (
            isinstance(index, bool)
            or not isinstance(index, (int, np.integer))
            or not (-n <= index < n)
        ):
            raise InvalidParameterError(f"index must be an integer in [{-n}, {n}); got {index!r}")
        return evaluate_encoder(
            self._problem.p_xy,
            self._problem.expand(self._encoders[index], hard=self.alpha == 0),
            beta=float(self.betas[index]),
            alpha=self.alpha,
            units=self.units,
            n_iter=int(self.n_iter[index]),
            converged=bool(self.converged[index]),
        )

    @property
    def transition_index(self) -> np.ndarray:
        """Indices k such that a phase transition lies between ``betas[k]`` and ``betas[k+1]``."""
        return _transition_index(self.n_clusters)

    @property
    def solutions(self) -> list[IBResult]:
        """Every kept solution as an :class:`IBResult`, in the order of ``betas``."""
        return [self.solution(i) for i in range(len(self.betas))]

    def i_ty_at(self, i_xt: Any) -> np.ndarray:
        """The frontier's I(T;Y) at given I(X;T) (linear between vertices, flat after)."""
        x = check_array(i_xt, "i_xt", ndim=(0, 1))
        return np.interp(x, self.envelope_i_xt, self.envelope_i_ty)


@dataclass
class _Annealer:
    """Solves the reduced problem at one β, warm-started, with cluster splits (internal).

    A split replaces each of the heaviest clusters by two copies whose shares of each x
    differ by up to ±25 %, along a random direction of the members' conditionals. After
    ``n_probe`` free iterations, a pair of copies whose decoders p(y|t) drew apart is a
    real bifurcation and is kept; a pair that drew together is merged back. The encoder
    is then iterated to convergence, merging clusters whose decoders agree to
    ``decimals`` decimals (two clusters with one decoder are one cluster).
    """

    problem: ReducedProblem
    alpha: float
    max_iter: int
    tol: float
    max_clusters: int
    rng: np.random.Generator
    n_probe: int = 10
    decimals: int = 5

    def solve(self, q: np.ndarray, beta: float) -> tuple[np.ndarray, IBResult]:
        """Iterate from ``q`` at ``beta``; returns the encoder and its scores in nats."""
        q, n_iter, converged = iterate(
            self.problem, q, beta, self.alpha, self.max_iter, self.tol, decimals=self.decimals
        )
        res = evaluate_encoder(
            self.problem.joint,
            q,
            beta=beta,
            alpha=self.alpha,
            units="nats",
            n_iter=n_iter,
            converged=converged,
        )
        return q, res

    def split_and_solve(self, q: np.ndarray, beta: float) -> tuple[np.ndarray, IBResult]:
        """Try to split every cluster at ``beta`` and keep the splits that take."""
        n_split = min(q.shape[1], self.max_clusters - q.shape[1])
        # for β ≤ 1 one cluster is optimal, as H(T) − α·H(T|X) ≥ I(X;T) ≥ I(T;Y) for α ≤ 1
        if n_split > 0 and beta > 1:
            q = self._split(q, beta, n_split)
        return self.solve(q, beta)

    def _split(self, q: np.ndarray, beta: float, n_split: int) -> np.ndarray:
        heavy = np.argsort(self.problem.p_x @ q)[::-1][:n_split]
        rest = np.setdiff1d(np.arange(q.shape[1]), heavy)
        parents = q[:, heavy]
        eta = self._split_direction(parents)
        trial = np.concatenate([parents * (1 + eta), parents * (1 - eta), q[:, rest]], axis=1)
        trial[:, : 2 * n_split] /= 2.0  # the two copies share their parent's mass
        gap_before = self._sibling_gap(trial, n_split)
        for _ in range(self.n_probe):
            trial, _ = update_encoder(self.problem, trial, beta, self.alpha)
        took = self._sibling_gap(trial, n_split) > gap_before
        first, second = trial[:, :n_split], trial[:, n_split : 2 * n_split]
        return np.concatenate(
            [
                first[:, took],
                second[:, took],
                first[:, ~took] + second[:, ~took],
                trial[:, 2 * n_split :],
            ],
            axis=1,
        )

    def _split_direction(self, parents: np.ndarray) -> np.ndarray:
        """Per-input share changes η ∈ [−¼, ¼] that pull a cluster's copies apart.

        η(x) is the projection of p(y|x) − p(y|t) on a random direction of the simplex,
        so the two copies lean towards different members of the cluster and their
        decoders differ unless every member has the same p(y|x).
        """
        _, centres = decoder(self.problem, parents)
        directions = self.rng.standard_normal(centres.shape)
        eta = self.problem.p_y_given_x @ directions.T - (centres * directions).sum(axis=1)
        scale = np.abs(eta).max(axis=0)
        return 0.25 * np.divide(eta, scale, out=np.zeros_like(eta), where=scale > 0)

    def _sibling_gap(self, q: np.ndarray, n_split: int) -> np.ndarray:
        """L1 distance between the decoders of each pair of copies."""
        _, p_y_given_t = decoder(self.problem, q[:, : 2 * n_split])
        return np.abs(p_y_given_t[:n_split] - p_y_given_t[n_split:]).sum(axis=1)


@dataclass
class _Trace:
    """Solutions found so far, kept sorted by β (internal)."""

    betas: list[float]
    encoders: list[np.ndarray]
    results: list[IBResult]

    def offer(self, k: int, q: np.ndarray, res: IBResult) -> None:
        """Keep ``q`` at position ``k`` if it has the lower objective."""
        if res.objective < self.results[k].objective - 1e-12:
            self.encoders[k], self.results[k] = q, res

    def insert(self, k: int, beta: float, q: np.ndarray, res: IBResult) -> None:
        self.betas.insert(k, beta)
        self.encoders.insert(k, q)
        self.results.insert(k, res)


def _forward(
    solver: _Annealer,
    betas: Sequence[float] | None,
    i_xy: float,
    h_xr: float,
    beta_max: float,
) -> _Trace:
    """Anneal upwards in β with splits, over ``betas`` or, when None, an automatic grid.

    The automatic grid starts at β = 1 and grows by 25 % a step until I(T;Y) is within
    1e-4·I(X;Y) of I(X;Y) and β is past 1.25·H(X̃)/I(X;Y), or β reaches ``beta_max``.
    """
    q = np.ones((solver.problem.n_inputs, 1))
    trace = _Trace([], [], [])
    beta = 1.0 if betas is None else float(betas[0])
    # past H(X̃)/I(X;Y) the sufficient statistic beats the trivial encoder for any α
    beta_enough = 1.25 * h_xr / i_xy if i_xy > 0 else 1.0
    while True:
        q, res = solver.split_and_solve(q, beta)
        trace.insert(len(trace.betas), beta, q, res)
        if betas is not None:
            if len(trace.betas) == len(betas):
                return trace
            beta = float(betas[len(trace.betas)])
        elif beta >= beta_max or (i_xy - res.i_ty <= 1e-4 * i_xy and beta >= beta_enough):
            return trace
        else:
            beta = min(beta * 1.25, beta_max)


def _reverse(solver: _Annealer, trace: _Trace) -> None:
    """Anneal downwards from the minimal sufficient statistic (T = X̃, optimal as β → ∞)."""
    n = solver.problem.n_inputs
    q = np.eye(n) if solver.max_clusters >= n else trace.encoders[-1]
    for k in range(len(trace.betas) - 1, -1, -1):
        q, res = solver.solve(q, trace.betas[k])
        trace.offer(k, q, res)


def _refine(solver: _Annealer, trace: _Trace, step_x: float, step_y: float, budget: int) -> None:
    """Insert β midway where neighbouring solutions are far apart.

    Each new β is solved warm from both neighbours and the better solution kept; rounds
    repeat until the curve is resolved to (``step_x``, ``step_y``), neighbouring β are
    within 1 % of each other, or ``budget`` new β are spent.
    """
    while budget > 0:
        todo = []
        for k in range(len(trace.betas) - 1):
            lo, hi = trace.results[k], trace.results[k + 1]
            far = abs(hi.i_xt - lo.i_xt) > step_x or abs(hi.i_ty - lo.i_ty) > step_y
            if far and trace.betas[k + 1] > 1.01 * trace.betas[k]:
                todo.append(k)
        if not todo:
            return
        for k in reversed(todo[:budget]):
            beta = float(np.sqrt(trace.betas[k] * trace.betas[k + 1]))
            q, res = solver.solve(trace.encoders[k], beta)
            trace.insert(k + 1, beta, q, res)
            trace.offer(k + 1, *solver.solve(trace.encoders[k + 2], beta))
        budget -= len(todo)


def ib_curve(
    p_xy: Any,
    betas: Sequence[float] | np.ndarray | None = None,
    *,
    alpha: float = 1.0,
    method: str = "anneal",
    max_clusters: int | None = None,
    beta_max: float = 1e4,
    resolution: float = 0.02,
    max_iter: int | None = None,
    tol: float = 1e-10,
    units: str = "bits",
    normalize: bool = False,
    random_state: Any = None,
    progress: Progress | None = None,
) -> IBCurve:
    r"""Trace the IB curve of a joint distribution by deterministic annealing.

    Parameters
    ----------
    p_xy : array_like, shape (|X|, |Y|)
        The joint distribution (counts with ``normalize=True``).
    betas : sequence of float, optional
        β values to solve at (any order; results come sorted). When omitted, a grid
        starts at β = 1 (always the trivial solution) and grows geometrically until
        I(T;Y) is within 1e-4·I(X;Y) of I(X;Y) and β is past 1.25·H(X̃)/I(X;Y) (where
        the sufficient statistic beats the trivial encoder), or β reaches ``beta_max``; it is then
        refined wherever neighbouring solutions are further apart than ``resolution``
        of the plane's extent.
    alpha : float
        1 for IB (Tishby et al. 2000), 0 for the deterministic IB (Strouse & Schwab 2017),
        in between (within [0, 1]) for the generalised IB.
    method : {"anneal"}
        Deterministic annealing with splits, plus a reverse pass from the minimal
        sufficient statistic (:func:`ibkit.ib.agglomerative_ib` gives the hard,
        bottom-up alternative).
    max_clusters : int, optional
        Cap on |T|, in [1, |X|] (default: the number of distinct conditionals p(y|x)).
    beta_max, resolution : float
        Largest β and relative resolution of the automatic grid.
    max_iter, tol : int or None, float
        Per-β limits of the self-consistent iterations (``tol`` bounds the change of the
        free energy in nats per iteration); β values that did not converge are flagged
        in ``converged`` and reported in one :class:`~ibkit.ConvergenceWarning`.
        ``max_iter`` defaults to 1000 when at most 100 inputs have distinct
        conditionals, else 100: a point stopped early is still an achievable point on
        the frontier, only slightly away from the exact optimum of its β.
    units : {"bits", "nats"}
    normalize : bool
        Accept counts by dividing ``p_xy`` by its sum.
    random_state : None, int or numpy.random.Generator
        Seeds the split perturbations; the same seed gives the same curve.
    progress : callable(done, total), optional
        Called after each of the three stages (upward annealing, downward annealing,
        refinement and polishing) with ``(stage, 3)``.

    Returns
    -------
    IBCurve

    Examples
    --------
    >>> import numpy as np
    >>> from ibkit.ib import ib_curve
    >>> p_xy = np.array([[0.45, 0.05], [0.05, 0.45]])  # a binary symmetric channel, ε = 0.1
    >>> curve = ib_curve(p_xy, random_state=0)
    >>> round(float(curve.critical_betas[0]), 2)  # theory: 1 / (1 − 2ε)² = 1.5625
    1.57
    >>> bool(abs(curve.envelope_i_ty[-1] - curve.i_xy) < 1e-9)
    True
    """
    p_xy = prepare_joint(p_xy, normalize)
    opts = check_curve_options(
        betas=betas,
        alpha=alpha,
        method=method,
        max_clusters=max_clusters,
        beta_max=beta_max,
        resolution=resolution,
        max_iter=max_iter,
        tol=tol,
        units=units,
        progress=progress,
        n_inputs=p_xy.shape[0],
    )
    rng = check_random_state(random_state)
    problem = reduce_problem(p_xy)
    cap = problem.n_inputs if opts.max_clusters is None else opts.max_clusters
    max_iter = opts.max_iter
    if max_iter is None:  # iterations are cheap on small problems, dear on large ones
        max_iter = 1000 if problem.n_inputs <= 100 else 100
    solver = _Annealer(problem, opts.alpha, max_iter, opts.tol, cap, rng)

    i_xy = mutual_information_nats(p_xy)
    h_xr = float(entropy_nats(problem.p_x))  # I(X;X̃): the sufficient statistic's I(X;T)
    grid = None if opts.betas is None else list(opts.betas)
    trace = _forward(solver, grid, i_xy, h_xr, opts.beta_max)
    _report(opts.progress, 1)
    _reverse(solver, trace)
    _report(opts.progress, 2)
    if grid is None:
        steps = opts.resolution * max(h_xr, 1e-12), opts.resolution * max(i_xy, 1e-12)
        _refine(solver, trace, *steps, budget=4 * len(trace.betas))
    _polish(solver, trace)
    _report(opts.progress, 3)
    return _assemble(problem, trace, i_xy, h_xr, opts.alpha, opts.units, cap)


class CurveOptions(NamedTuple):
    """The options of :func:`ib_curve` as checked by :func:`check_curve_options`."""

    betas: np.ndarray | None
    alpha: float
    max_clusters: int | None
    beta_max: float
    resolution: float
    max_iter: int | None
    tol: float
    units: str
    progress: Progress | None


def check_curve_options(
    *,
    betas: Any,
    alpha: Any,
    method: Any,
    max_clusters: Any,
    beta_max: Any,
    resolution: Any,
    max_iter: Any,
    tol: Any,
    units: Any,
    progress: Any,
    n_inputs: int,
) -> CurveOptions:
    """Check the options of :func:`ib_curve` (all but the joint distribution).

    ``n_inputs`` is |X|, the bound of ``max_clusters``. Returns the values to use
    (``betas`` sorted, or None).

    Raises
    ------
    InvalidParameterError
        Naming the first option out of its range, with the value received.
    """
    alpha = check_alpha(alpha)
    units = check_units(units)
    if method != "anneal":
        raise InvalidParameterError(f"method must be 'anneal'; got {method!r}")
    if max_iter is not None:
        max_iter = check_int(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    beta_max = check_positive(beta_max, "beta_max")
    if beta_max <= 1:
        raise InvalidParameterError(
            f"beta_max must be > 1 (every beta <= 1 gives the trivial encoder); got {beta_max:g}"
        )
    resolution = check_positive(resolution, "resolution")
    grid = None
    if betas is not None:
        grid = np.sort(np.atleast_1d(check_array(betas, "betas", ndim=(0, 1))))
        if (grid <= 0).any():
            raise InvalidParameterError(f"betas must all be > 0; got min {grid.min():g}")
    progress = check_callback(progress, "progress")
    if max_clusters is not None:
        max_clusters = check_n_clusters(max_clusters, "max_clusters", n_inputs)
    return CurveOptions(
        grid, alpha, max_clusters, beta_max, resolution, max_iter, tol, units, progress
    )


def _report(progress: Progress | None, stage: int) -> None:
    if progress is not None:
        progress(stage, 3)


def _polish(solver: _Annealer, trace: _Trace, max_rounds: int = 5) -> None:
    """Re-solve each β from any other solution that scores better there.

    Solution j scores H(T_j) − α·H(T_j|X) − β_k·I(T_j;Y) at β_k, read off its reported
    quantities. The candidates are every kept solution plus, unless |T| is capped, the
    minimal sufficient statistic T = X̃ (H(T) = I(X;T) = H(X̃), I(T;Y) = I(X;Y)). Where a
    candidate beats the solution kept at β_k, the equations are iterated at β_k from the
    candidate's encoder and the result offered.
    """
    problem = solver.problem
    identity = solver.max_clusters >= problem.n_inputs
    # the minimal sufficient statistic's H(T) − α·H(T|X) and I(T;Y), when it is a candidate
    extra_fixed, extra_i_ty = (
        ([entropy_nats(problem.p_x)], [mutual_information_nats(problem.joint)])
        if identity
        else ([], [])
    )
    for _ in range(max_rounds):
        h_t, i_xt, i_ty = (
            np.array([getattr(r, name) for r in trace.results]) for name in ("h_t", "i_xt", "i_ty")
        )
        fixed = np.append(h_t - solver.alpha * (h_t - i_xt), extra_fixed)
        i_ty = np.append(i_ty, extra_i_ty)
        scores = fixed[None, :] - np.array(trace.betas)[:, None] * i_ty[None, :]
        best = scores.argmin(axis=1)
        rows = np.arange(len(trace.betas))
        todo = np.flatnonzero(scores[rows, best] < scores[rows, rows] - 1e-12)
        if todo.size == 0:
            return
        for k in todo:
            start = trace.encoders[best[k]] if best[k] < len(rows) else np.eye(problem.n_inputs)
            trace.offer(k, *solver.solve(start, trace.betas[k]))


def _transition_index(n_clusters: np.ndarray) -> np.ndarray:
    """Indices k where |T| at the next β first exceeds every value it had before."""
    return np.flatnonzero(n_clusters[1:] > np.maximum.accumulate(n_clusters)[:-1])


def _assemble(
    problem: ReducedProblem,
    trace: _Trace,
    i_xy: float,
    h_xr: float,
    alpha: float,
    units: str,
    max_clusters: int,
) -> IBCurve:
    """Collect the per-β solutions into an :class:`IBCurve` (values in ``units``)."""
    betas, encoders, results = trace.betas, trace.encoders, trace.results
    i_xt = np.array([r.i_xt for r in results])
    i_ty = np.array([r.i_ty for r in results])
    n_clusters = np.array([r.n_clusters for r in results])
    converged = np.array([r.converged for r in results])
    # the minimal sufficient statistic (I(X;X̃), I(X;Y)) is achievable unless |T| is capped
    capped = problem.n_inputs > max_clusters
    corner_x, corner_y = ([0.0], [0.0]) if capped else ([0.0, h_xr], [0.0, i_xy])
    env_x, env_y = upper_concave_envelope(
        np.concatenate([corner_x, i_xt]), np.concatenate([corner_y, i_ty])
    )
    change = _transition_index(n_clusters)
    beta_arr = np.array(betas)
    critical = np.sqrt(beta_arr[change] * beta_arr[change + 1])
    h_y = float(entropy_nats(problem.p_xy.sum(axis=0)))
    deterministic = bool(np.all(np.isin(problem.p_y_given_x, (0.0, 1.0))))
    if deterministic:
        note = (
            "Y is a deterministic function of X: the IB Lagrangian only reaches the corners, "
            "and the frontier is I(T;Y) = min(I(X;T), H(Y)), traced by mixing them."
        )
    else:
        note = (
            "The frontier is the upper concave envelope of the solutions found; points "
            "between vertices are reached by mixing the neighbouring encoders."
        )
    if not converged.all():
        warnings.warn(
            f"ib_curve: {int((~converged).sum())} of {len(betas)} beta values did not "
            "converge within max_iter (typical next to a phase transition); increase "
            "max_iter or tol for tighter solutions there.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return IBCurve(
        betas=beta_arr,
        i_xt=from_nats(i_xt, units),
        i_ty=from_nats(i_ty, units),
        h_t=from_nats(np.array([r.h_t for r in results]), units),
        objective=from_nats(np.array([r.objective for r in results]), units),
        n_clusters=n_clusters,
        n_iter=np.array([r.n_iter for r in results]),
        converged=converged,
        envelope_i_xt=from_nats(env_x, units),
        envelope_i_ty=from_nats(env_y, units),
        critical_betas=critical,
        i_xy=float(from_nats(i_xy, units)),
        h_x=float(from_nats(entropy_nats(problem.p_xy.sum(axis=1)), units)),
        h_y=float(from_nats(h_y, units)),
        deterministic=deterministic,
        alpha=alpha,
        units=units,
        note=note,
        _problem=problem,
        _encoders=tuple(encoders),
    )
