r"""The IB curve: the frontier of I(T;Y) against I(X;T) over all encoders.

:func:`ib_curve` traces the frontier by deterministic annealing (Rose 1998; the IB
version in Slonim's thesis, 2002, and Zaslavsky & Tishby 2019): β rises from 1, where
the trivial encoder is optimal (I(T;Y) ≤ I(X;T) makes the objective ≥ 0 for β ≤ 1), and
at each β every cluster is split in two with a small random perturbation before the
self-consistent equations are iterated from the previous solution. Copies that do not
separate are merged back, so the number of distinct clusters grows only at the phase
transitions of the problem. A second pass walks β back down from the minimal sufficient
statistic (the β → ∞ solution); at each β the solution with the lower objective is kept.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ibkit._validation import (
    ConvergenceWarning,
    check_array,
    check_int,
    check_positive,
    check_random_state,
    check_units,
    from_nats,
)
from ibkit.ib._result import IBResult, evaluate_encoder
from ibkit.ib.iterative import (
    ReducedProblem,
    check_alpha,
    decoder,
    iterate,
    prepare_joint,
    reduce_problem,
    update_encoder,
)
from ibkit.measures import entropy_nats, mutual_information_nats

__all__ = ["IBCurve", "ib_curve", "upper_concave_envelope"]

Progress = Callable[[int, int], None]


def upper_concave_envelope(i_xt: Any, i_ty: Any) -> tuple[np.ndarray, np.ndarray]:
    """Vertices of the upper concave envelope of points, up to the highest I(T;Y).

    The envelope is the smallest concave, non-decreasing function lying above every
    point (the Pareto frontier of achievable points under mixing). Returned vertices are
    sorted by I(X;T); points to the right of the highest I(T;Y) are dominated and dropped.
    """
    x = np.asarray(i_xt, dtype=float)
    y = np.asarray(i_ty, dtype=float)
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
class IBCurve:
    """The IB curve of a joint distribution.

    Per-β arrays (ascending β) describe the Lagrangian solution kept at each β; the
    ``envelope_*`` arrays are the vertices of the frontier, the upper concave envelope of
    every solution found (see the module docstring). Values are in ``units``.

    Attributes
    ----------
    betas, i_xt, i_ty, h_t, objective : ndarray
        β and the solution kept at that β.
    n_clusters : ndarray of int
        Distinct clusters in use in each solution.
    envelope_i_xt, envelope_i_ty : ndarray
        Frontier vertices, from (0, 0) to the minimal sufficient statistic.
    critical_betas : ndarray
        Estimated β of each phase transition (where the number of clusters changes):
        the geometric mean of the two grid values that bracket it.
    i_xy, h_y, h_x : float
        I(X;Y), H(Y) and H(X) of the problem.
    deterministic : bool
        True when Y is a function of X (then the frontier is min(I(X;T), H(Y))).
    alpha : float
        1 for IB, 0 for the deterministic IB (then the x-axis quantity H(T) equals
        I(X;T) for every solution).
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

    def solution(self, index: int) -> IBResult:
        """The full :class:`IBResult` (encoder over the original X) at ``betas[index]``."""
        return evaluate_encoder(
            self._problem.p_xy,
            self._problem.expand(self._encoders[index], hard=self.alpha == 0),
            beta=float(self.betas[index]),
            alpha=self.alpha,
            units=self.units,
            n_iter=0,
            converged=bool(self.converged[index]),
        )

    @property
    def solutions(self) -> list[IBResult]:
        """Every kept solution as an :class:`IBResult`, in the order of ``betas``."""
        return [self.solution(i) for i in range(len(self.betas))]

    def i_ty_at(self, i_xt: Any) -> np.ndarray:
        """The frontier's I(T;Y) at given I(X;T) (linear between vertices, flat after)."""
        return np.interp(np.asarray(i_xt, dtype=float), self.envelope_i_xt, self.envelope_i_ty)

    def to_frame(self) -> Any:
        """A tidy pandas DataFrame, one row per β."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("IBCurve.to_frame needs pandas: pip install pandas") from exc
        return pd.DataFrame(
            {
                "beta": self.betas,
                "i_xt": self.i_xt,
                "i_ty": self.i_ty,
                "h_t": self.h_t,
                "objective": self.objective,
                "n_clusters": self.n_clusters,
                "converged": self.converged,
                "units": self.units,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """The curve's public fields as plain Python lists and numbers."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            if name.startswith("_"):
                continue
            value = getattr(self, name)
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the curve (see :func:`ibkit.plots.plot_ib_curve`); returns the Axes."""
        from ibkit.plots import plot_ib_curve

        return plot_ib_curve(self, ax=ax, **kwargs)


@dataclass
class _Annealer:
    """Solves the reduced problem at one β, warm-started, with cluster splits (internal).

    A split replaces each of the heaviest clusters by two copies whose shares of every x
    differ by ±25 %. After ``n_probe`` free iterations, a pair of copies whose decoders
    p(y|t) drew apart is a real bifurcation and is kept; a pair that drew together is
    merged back. The encoder is then iterated to convergence.
    """

    problem: ReducedProblem
    alpha: float
    max_iter: int
    tol: float
    max_clusters: int
    rng: np.random.Generator
    n_probe: int = 25
    decimals: int = 3

    @property
    def joint(self) -> np.ndarray:
        return self.problem.p_x[:, None] * self.problem.p_y_given_x

    def solve(self, q: np.ndarray, beta: float) -> tuple[np.ndarray, IBResult]:
        """Iterate from ``q`` at ``beta``; returns the encoder and its scores in nats."""
        q, n_iter, converged = iterate(
            self.problem, q, beta, self.alpha, self.max_iter, self.tol, decimals=self.decimals
        )
        res = evaluate_encoder(
            self.joint,
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
        if n_split > 0:
            q = self._split(q, beta, n_split)
        return self.solve(q, beta)

    def _split(self, q: np.ndarray, beta: float, n_split: int) -> np.ndarray:
        heavy = np.argsort(self.problem.p_x @ q)[::-1][:n_split]
        rest = np.setdiff1d(np.arange(q.shape[1]), heavy)
        eta = 0.25 * self.rng.choice([-1.0, 1.0], size=(q.shape[0], n_split))
        parents = q[:, heavy]
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

    def _sibling_gap(self, q: np.ndarray, n_split: int) -> np.ndarray:
        """L1 distance between the decoders of each pair of copies."""
        _, p_y_given_t = decoder(self.problem, q[:, : 2 * n_split])
        return np.abs(p_y_given_t[:n_split] - p_y_given_t[n_split:]).sum(axis=1)


def _auto_betas(
    solver: _Annealer,
    i_xy: float,
    h_xr: float,
    beta_max: float,
    resolution: float,
    progress: Progress | None,
) -> tuple[list[float], list[np.ndarray], list[IBResult]]:
    """Forward annealing on an adaptive β grid, from β = 1 until I(T;Y) ≈ I(X;Y).

    The step in log β shrinks where a step would move the solution by more than
    ``resolution`` (a fraction of the plane's extent) and grows where it barely moves.
    """
    q = np.ones((solver.problem.n_inputs, 1))
    q, res = solver.solve(q, 1.0)
    betas, encoders, results = [1.0], [q], [res]
    factor, min_factor, max_factor = 1.25, 1.0005, 2.0
    step_x, step_y = resolution * max(h_xr, 1e-12), resolution * max(i_xy, 1e-12)
    while betas[-1] < beta_max and i_xy - results[-1].i_ty > 1e-4 * i_xy:
        beta = min(betas[-1] * factor, beta_max)
        q_new, res_new = solver.split_and_solve(encoders[-1], beta)
        jump = max(
            abs(res_new.i_xt - results[-1].i_xt) / step_x,
            abs(res_new.i_ty - results[-1].i_ty) / step_y,
        )
        if jump > 1 and factor > min_factor:
            factor = max(factor**0.5, min_factor)
            continue
        betas.append(beta)
        encoders.append(q_new)
        results.append(res_new)
        if jump < 0.25:
            factor = min(factor**1.5, max_factor)
        if progress is not None:
            progress(len(betas), 2 * len(betas) + 10)
    return betas, encoders, results


def ib_curve(
    p_xy: Any,
    betas: Sequence[float] | np.ndarray | None = None,
    *,
    alpha: float = 1.0,
    method: str = "anneal",
    max_clusters: int | None = None,
    beta_max: float = 1e4,
    resolution: float = 0.02,
    max_iter: int = 500,
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
        β values to solve at (any order; results come sorted). When omitted, an adaptive
        grid starts at β = 1 (always the trivial solution) and refines the step wherever
        the solution moves by more than ``resolution`` of the plane, until I(T;Y) is within
        1e-4·I(X;Y) of I(X;Y) or β reaches ``beta_max``.
    alpha : float
        1 for IB (Tishby et al. 2000), 0 for the deterministic IB (Strouse & Schwab 2017),
        in between for the generalised IB.
    method : {"anneal"}
        Deterministic annealing with splits, plus a reverse pass from the minimal
        sufficient statistic (:func:`ibkit.ib.agglomerative_ib` gives the hard,
        bottom-up alternative).
    max_clusters : int, optional
        Cap on |T| (default: the number of distinct conditionals p(y|x)).
    beta_max, resolution : float
        Largest β and relative step of the automatic grid.
    max_iter, tol : int, float
        Per-β limits of the self-consistent iterations (``tol`` bounds the change of the
        free energy in nats per iteration); β values that did not converge are flagged in ``converged`` and reported in one :class:`~ibkit.ConvergenceWarning`.
    units : {"bits", "nats"}
    normalize : bool
        Accept counts by dividing ``p_xy`` by its sum.
    random_state : None, int or numpy.random.Generator
        Seeds the split perturbations; the same seed gives the same curve.
    progress : callable(done, total), optional
        Called after each β is solved; ``total`` is an estimate that may grow.

    Returns
    -------
    IBCurve

    Examples
    --------
    >>> import numpy as np
    >>> from ibkit.ib import ib_curve
    >>> p_xy = np.array([[0.3, 0.05], [0.05, 0.3], [0.15, 0.15]])
    >>> curve = ib_curve(p_xy, random_state=0)
    >>> bool(abs(curve.envelope_i_ty[-1] - curve.i_xy) < 1e-9)
    True
    """
    p_xy = prepare_joint(p_xy, normalize)
    alpha = check_alpha(alpha)
    units = check_units(units)
    if method != "anneal":
        raise ValueError(f"method must be 'anneal'; got {method!r}")
    max_iter = check_int(max_iter, "max_iter")
    tol = check_positive(tol, "tol")
    beta_max = check_positive(beta_max, "beta_max")
    resolution = check_positive(resolution, "resolution")
    grid = None
    if betas is not None:
        grid = np.sort(check_array(betas, "betas", ndim=1))
        if (grid <= 0).any():
            raise ValueError(f"betas must all be > 0; got min {grid.min():g}")
    rng = check_random_state(random_state)
    problem = reduce_problem(p_xy)
    cap = problem.n_inputs if max_clusters is None else check_int(max_clusters, "max_clusters")
    solver = _Annealer(problem, alpha, max_iter, tol, cap, rng)

    i_xy = mutual_information_nats(p_xy)
    h_xr = float(entropy_nats(problem.p_x))  # I(X;X̃): the sufficient statistic's I(X;T)
    if grid is None:
        beta_list, encoders, results = _auto_betas(
            solver, i_xy, h_xr, beta_max, resolution, progress
        )
    else:
        beta_list, encoders, results = [], [], []
        q = np.ones((problem.n_inputs, 1))
        for k, beta in enumerate(grid):
            q, res = solver.split_and_solve(q, float(beta))
            beta_list.append(float(beta))
            encoders.append(q)
            results.append(res)
            if progress is not None:
                progress(k + 1, 2 * len(grid))
    n_forward = len(beta_list)

    # reverse pass from the minimal sufficient statistic (T = X̃, optimal as β → ∞)
    q = np.eye(problem.n_inputs)[:, :cap] if cap >= problem.n_inputs else encoders[-1]
    for k in range(n_forward - 1, -1, -1):
        q, res = solver.solve(q, beta_list[k])
        if res.objective < results[k].objective - 1e-12:
            encoders[k], results[k] = q, res
        if progress is not None:
            progress(2 * n_forward - k, 2 * n_forward)

    return _assemble(problem, beta_list, encoders, results, i_xy, h_xr, alpha, units)


def _assemble(
    problem: ReducedProblem,
    betas: list[float],
    encoders: list[np.ndarray],
    results: list[IBResult],
    i_xy: float,
    h_xr: float,
    alpha: float,
    units: str,
) -> IBCurve:
    """Collect the per-β solutions into an :class:`IBCurve` (values in ``units``)."""
    i_xt = np.array([r.i_xt for r in results])
    i_ty = np.array([r.i_ty for r in results])
    n_clusters = np.array([q.shape[1] for q in encoders])
    converged = np.array([r.converged for r in results])
    env_x, env_y = upper_concave_envelope(
        np.concatenate([[0.0, h_xr], i_xt]), np.concatenate([[0.0, i_xy], i_ty])
    )
    change = np.flatnonzero(np.diff(n_clusters) != 0)
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
