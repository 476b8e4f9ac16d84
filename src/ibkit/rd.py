r"""Rate–distortion and channel capacity by the Blahut–Arimoto algorithm.

Rate–distortion
---------------
A source X ~ p(x) is described by a reproduction X̂ through an encoder q(x̂|x), at a
cost d(x, x̂) ≥ 0 per letter. The rate–distortion function (Shannon 1959)

.. math::

    R(D) = \min_{q(\hat x|x):\ \mathbb{E}\, d(X,\hat X) \le D} I(X;\hat X)

is convex and non-increasing, from :math:`(D_{\min}, R(D_{\min}))`, where
:math:`D_{\min} = \sum_x p(x) \min_{\hat x} d(x,\hat x)`, to :math:`(D_{\max}, 0)`, where
:math:`D_{\max} = \min_{\hat x} \sum_x p(x) d(x,\hat x)` (one fixed reproduction). For a
slope β > 0 the minimiser of the Lagrangian :math:`I(X;\hat X) + \beta\,\mathbb{E}\,d`
(rate in nats) is the point of the curve where :math:`dR/dD = -\beta` (−β/ln 2 with the
rate in bits), and it solves

.. math::

    q(\hat x|x) = \frac{q(\hat x)\, e^{-\beta d(x,\hat x)}}{Z(x)}, \qquad
    q(\hat x) = \sum_x p(x)\, q(\hat x|x).

Blahut (1972) and Arimoto (1972) alternate the two equations. The problem is convex, so
the iteration reaches the global optimum from any q(x̂) > 0 (Csiszár 1974). With
:math:`c(\hat x) = \sum_x p(x) e^{-\beta d(x,\hat x)} / Z(x)`, so that q(x̂)c(x̂) is the
next marginal, Blahut's bounds give the stopping rule: the encoder's Lagrangian exceeds
the optimum by at most

.. math::

    \text{gap} = \max_{\hat x} \log c(\hat x) - \sum_{\hat x} q(\hat x) c(\hat x) \log c(\hat x),

hence its point (D, R) lies on or above the curve, at most ``gap`` nats above R(D).

Channel capacity
----------------
:math:`C = \max_{p(x)} I(X;Y)` for a channel p(y|x). Arimoto's and Blahut's update is
:math:`p(x) \leftarrow p(x)\, e^{K(x)} / \sum_{x'} p(x') e^{K(x')}` with
:math:`K(x) = D_{KL}[p(y|x) \,\|\, p(y)]`, and
:math:`I(X;Y) \le C \le \max_x K(x)` bounds the capacity at every step.

The IB as rate–distortion
-------------------------
The IB self-consistent equations (Tishby, Pereira & Bialek 2000) are the equations above
with the distortion :math:`d(x,t) = D_{KL}[p(y|x) \,\|\, p(y|t)]`, a distortion that
depends on the encoder through its decoder p(y|t). For any fixed decoders r(y|t),
:math:`\mathbb{E}\,d = -H(Y|X) - \sum_{t,y} p(t,y)\log r(y|t) \ge I(X;Y) - I(T;Y)`, with
equality when r is the encoder's own decoder (the cross-entropy is least at the true
conditional). So the rate–distortion curve of fixed decoders gives IB points
(R, I(T;Y) ≥ I(X;Y) − D), below the IB curve, and at an IB fixed point of slope β the
Blahut–Arimoto solution for its decoders is the IB encoder itself: its rate is I(X;T),
its distortion I(X;Y) − I(T;Y), and its Lagrangian the IB objective plus β·I(X;Y).

Numerics
--------
Everything runs in the log domain: each row of −β·d is shifted by its maximum (so
β = 1e6 is exact), and the marginal is kept as log q(x̂), at least e^−600 times its
largest entry, so a reproduction out of use stays representable and can come back when
β changes. The updates are over-relaxed per reproduction: log q + η·log c, with each η
doubled while its log c keeps its sign and reset when the sign flips (as in Rprop,
Riedmiller & Braun 1993), so a weight that must vanish or grow gets there in tens of
steps rather than thousands. A step that would raise the objective, computed exactly
from the ratios of the weights rather than as a difference of two values, is replaced
by the plain update, which never raises it (a per-coordinate form of the over-relaxed
EM of Salakhutdinov & Roweis 2003). Blahut's gap certifies the result, whatever the
path.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy.special import xlogy

from ibkit._validation import (
    ConvergenceWarning,
    InvalidParameterError,
    Progress,
    check_array,
    check_callback,
    check_int,
    check_positive,
    check_probabilities,
    check_units,
    from_nats,
)
from ibkit.ib._result import CurveResult, plain_fields
from ibkit.ib.curve import upper_concave_envelope
from ibkit.ib.iterative import check_conditional
from ibkit.measures import mutual_information_nats

__all__ = [
    "CapacityResult",
    "RDCurve",
    "RDResult",
    "blahut_arimoto",
    "channel_capacity",
    "rd_curve",
]

#: Largest over-relaxation factor η of an update.
_MAX_STEP = 1e6
#: Machine epsilon of float64.
_EPS = float(np.finfo(float).eps)
#: Weights are kept at least e^(−_SPAN) of the largest (see :func:`_normalise`).
_SPAN = 600.0
#: The automatic β grid of :func:`rd_curve` ends where the rate is within this fraction
#: of 0, and the distortion within this fraction of D_max − D_min above D_min.
_END = 1e-4


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class RDResult:
    r"""The rate–distortion point at one slope β, with its encoder.

    Attributes
    ----------
    p_xhat_given_x : ndarray, shape (|X|, |X̂|)
        The optimal encoder q(x̂|x).
    p_xhat : ndarray, shape (|X̂|,)
        The reproduction marginal q(x̂) = Σ_x p(x) q(x̂|x).
    beta : float
        The slope β (nats of rate per unit of distortion).
    rate : float
        I(X;X̂) in ``units``.
    distortion : float
        E d(X, X̂), in the units of the distortion matrix.
    objective : float
        The Lagrangian I(X;X̂) + β·E d (its β·E d term in nats), expressed in ``units``.
    gap : float
        Blahut's bound, in ``units``: the point lies on or above R(D), at most ``gap``
        above it.
    units : str
        ``"bits"`` or ``"nats"``.
    n_iter : int
        Updates evaluated.
    converged : bool
        Whether ``gap`` met the tolerance.
    """

    p_xhat_given_x: np.ndarray
    p_xhat: np.ndarray
    beta: float
    rate: float
    distortion: float
    objective: float
    gap: float
    units: str
    n_iter: int
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values (arrays become nested lists)."""
        return plain_fields(self)


@dataclass(frozen=True, eq=False)
class CapacityResult:
    """The capacity of a discrete memoryless channel and an input that achieves it.

    Attributes
    ----------
    capacity : float
        I(X;Y) of ``p_x`` through the channel, in ``units``; within ``gap`` of the
        capacity C (never above it).
    p_x : ndarray, shape (|X|,)
        The capacity-achieving input distribution.
    p_y : ndarray, shape (|Y|,)
        The output distribution it induces.
    gap : float
        max_x KL[p(y|x) ‖ p(y)] − I(X;Y) in ``units``, an upper bound on C − ``capacity``.
    units : str
        ``"bits"`` or ``"nats"``.
    n_iter : int
        Updates evaluated.
    converged : bool
        Whether ``gap`` met the tolerance.
    """

    capacity: float
    p_x: np.ndarray
    p_y: np.ndarray
    gap: float
    units: str
    n_iter: int
    converged: bool

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values (arrays become lists)."""
        return plain_fields(self)


@dataclass(frozen=True, eq=False)
class RDCurve(CurveResult):
    r"""The rate–distortion curve R(D) of a source, traced over slopes β.

    Shares ``units``, ``to_frame()`` (one row per β), ``to_dict()`` and ``plot()`` with
    the IB curve results (:class:`~ibkit.ib.CurveResult`); its axes are the distortion
    (horizontal) and the rate (vertical) instead of I(X;T) and I(T;Y), so it has no
    ``i_xy``.

    Attributes
    ----------
    betas, rate, distortion : ndarray
        Ascending slopes β and the optimal point (E d, I(X;X̂)) at each, the rate in
        ``units``. Each point lies on or above R(D), within the solver's ``tol``.
    n_iter : ndarray of int
        Updates evaluated at each β.
    converged : ndarray of bool
        Whether each β met the tolerance.
    envelope_distortion, envelope_rate : ndarray
        Frontier vertices, ascending in distortion: the lower convex envelope of the
        points and the two ends (D_min, R(D_min)) and (D_max, 0).
    d_min, d_max : float
        Σ_x p(x) min_x̂ d(x,x̂) and min_x̂ Σ_x p(x) d(x,x̂): the ends of the curve.
    rate_at_d_min : float
        R(D_min) in ``units``, the largest rate of the curve.
    units : str
        ``"bits"`` or ``"nats"``.
    """

    betas: np.ndarray
    rate: np.ndarray
    distortion: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    envelope_distortion: np.ndarray
    envelope_rate: np.ndarray
    d_min: float
    d_max: float
    rate_at_d_min: float
    units: str

    _COLUMNS: ClassVar[dict[str, str]] = {
        "beta": "betas",
        "distortion": "distortion",
        "rate": "rate",
        "n_iter": "n_iter",
        "converged": "converged",
    }
    _PLOT: ClassVar[str] = "plot_rd_curve"

    def rate_at(self, distortion: Any) -> np.ndarray:
        """R(D) on the frontier: linear between vertices, 0 past D_max, inf below D_min."""
        d = check_array(distortion, "distortion", ndim=(0, 1))
        rate = np.interp(d, self.envelope_distortion, self.envelope_rate)
        return np.where(d < self.d_min, np.inf, rate)


# --------------------------------------------------------------------------- the solver


def _log_sum_exp(a: np.ndarray, axis: int, weights: np.ndarray | None = None) -> np.ndarray:
    """log Σ w·exp(a) along ``axis`` with the maximum factored out (w = 1 when None).

    Written out rather than :func:`scipy.special.logsumexp`, whose call overhead
    dominates the small matrices of an iteration. Each slice along ``axis`` needs one
    finite entry.
    """
    top = a.max(axis=axis, keepdims=True)
    terms = np.exp(a - top)
    total = terms.sum(axis=axis) if weights is None else np.tensordot(weights, terms, (0, axis))
    return np.squeeze(top, axis=axis) + np.log(total)


def _normalise(log_w: np.ndarray) -> np.ndarray:
    """log w normalised, each entry raised to at least ``_SPAN`` below the largest.

    A weight e^600 times below the largest changes no reported quantity (it lies far
    under double precision's resolution), yet the floor keeps it able to come back when
    the problem changes (β along a curve) and bounds the ratios :class:`_Point` takes.
    """
    log_w = np.maximum(log_w, log_w.max() - _SPAN)
    return log_w - _log_sum_exp(log_w, axis=0)


def _ratios(log_w: np.ndarray, move: np.ndarray) -> np.ndarray:
    """v/w − 1 for v ∝ w·e^move on the simplex, without cancellation for small moves.

    v/w = e^(move − s) with s = log Σ w·e^move = log1p(Σ w·(e^move − 1)); moves are at
    most ``_SPAN``, so nothing overflows.
    """
    shift = np.log1p(np.exp(log_w) @ np.expm1(move))
    return np.expm1(move - shift)


def _uniform(n: int) -> np.ndarray:
    return np.full(n, -np.log(n))


def _encoder(log_q: np.ndarray, log_kernel: np.ndarray) -> np.ndarray:
    """q(x̂|x) = q(x̂) e^{K(x,x̂)} / Z(x) from log q and the log-kernel K = −β·d."""
    log_joint = log_q + log_kernel
    return np.exp(log_joint - _log_sum_exp(log_joint, axis=1)[:, None])


@dataclass(frozen=True)
class _Point:
    """A distribution w on the simplex, as log w, with what an update needs (internal).

    ``direction`` is the log of the factor the plain (Blahut–Arimoto) update multiplies
    w by, ``gap`` bounds the suboptimality of w in nats, and ``change(move)`` is the
    change of the objective from w to v ∝ w·e^move. It is computed from the ratios
    v/w − 1 (:func:`_ratios`), so it is exact however small: a difference of two
    objective values, or of log v and log w, would drown in round-off near the optimum.
    """

    log_w: np.ndarray
    direction: np.ndarray
    gap: float
    change: Callable[[np.ndarray], float]


def _iterate(
    evaluate: Callable[[np.ndarray], _Point], log_w: np.ndarray, max_iter: int, tol: float
) -> tuple[_Point, int]:
    """Multiplicative updates w ← w·e^{η·g} on the simplex, in logs, until ``gap`` ≤ ``tol``.

    η = 1 is the Blahut–Arimoto step, which never raises the objective. Each coordinate
    has its own η, doubled (up to ``_MAX_STEP``) after each step while its direction g
    keeps its sign and reset to 1 when the sign flips, so a weight that must grow or
    vanish gets there in few steps (no weight moves by more than ``_SPAN`` at once); an
    over-relaxed step that would raise the objective is replaced by the plain step,
    after which every η is halved instead. Returns the last point and the evaluations
    used (at most ``max_iter``).
    """
    now = evaluate(log_w)
    step = np.ones_like(log_w)
    n_iter = 1
    while now.gap > tol and n_iter < max_iter:
        move = np.clip(step * now.direction, -_SPAN, _SPAN)
        # a rise below the round-off of the move's first-order effect is no rise
        noise = _EPS * float(np.exp(now.log_w) @ np.abs(move))
        if step.max() > 1 and now.change(move) > noise:  # too far: the plain step instead
            new, grown = evaluate(_normalise(now.log_w + now.direction)), step / 2.0
        else:
            new, grown = evaluate(_normalise(now.log_w + move)), 2.0 * step
        same = np.sign(new.direction) == np.sign(now.direction)
        step = np.where(same, np.clip(grown, 1.0, _MAX_STEP), 1.0)
        now, n_iter = new, n_iter + 1
    return now, n_iter


def _rd_evaluation(p_x: np.ndarray, log_kernel: np.ndarray) -> Callable[[np.ndarray], _Point]:
    """The Blahut–Arimoto step of rate–distortion for inputs of mass p_x > 0.

    ``log_kernel`` is K = −β·d shifted per row (entries may be −∞ where a pair is
    forbidden, but every row and column needs a finite one). The objective is
    F(q) = −Σ_x p(x) log Z(x), Z(x) = Σ_x̂ q(x̂) e^{K(x,x̂)}: the Lagrangian minimised
    over the encoders with reproduction prior q. The direction is log c(x̂).
    """

    def evaluate(log_q: np.ndarray) -> _Point:
        log_joint = log_q + log_kernel
        log_z = _log_sum_exp(log_joint, axis=1)
        log_c = _log_sum_exp(log_kernel - log_z[:, None], axis=0, weights=p_x)
        gap = log_c.max() - np.exp(log_q + log_c) @ log_c
        encoder = np.exp(log_joint - log_z[:, None])

        def change(move: np.ndarray) -> float:
            # F(v) − F(q) = −Σ_x p(x) log Σ_x̂ q(x̂|x) v(x̂)/q(x̂)
            ratio = np.maximum(encoder @ _ratios(log_q, move), -1.0)  # Z_v/Z_q − 1
            with np.errstate(divide="ignore"):  # Z_v = 0 is a rise to +∞
                return -float(p_x @ np.log1p(ratio))

        return _Point(log_q, log_c, max(float(gap), 0.0), change)

    return evaluate


@dataclass(frozen=True)
class _Source:
    """A validated source and distortion; the solver works on the inputs of mass > 0."""

    p_x: np.ndarray
    distortion: np.ndarray

    @property
    def n_out(self) -> int:
        return self.distortion.shape[1]

    @cached_property
    def live(self) -> np.ndarray:
        return self.p_x > 0

    @cached_property
    def excess(self) -> np.ndarray:
        """d(x, x̂) − min_x̂ d(x, x̂): the distortion shifted to 0 at each row's best."""
        return self.distortion - self.distortion.min(axis=1, keepdims=True)

    @property
    def d_min(self) -> float:
        return float(self.p_x @ self.distortion.min(axis=1))

    @property
    def d_max(self) -> float:
        return float((self.p_x @ self.distortion).min())

    def _iterate(
        self, log_kernel: np.ndarray, log_q: np.ndarray, max_iter: int, tol: float
    ) -> tuple[_Point, int]:
        """Blahut–Arimoto on the live inputs' rows ``log_kernel`` from ``log_q``."""
        return _iterate(_rd_evaluation(self.p_x[self.live], log_kernel), log_q, max_iter, tol)

    def solve(
        self, beta: float, log_q: np.ndarray, max_iter: int, tol: float
    ) -> tuple[np.ndarray, int, float]:
        """Blahut–Arimoto at slope β from the log-marginal ``log_q``."""
        point, n_iter = self._iterate(-beta * self.excess[self.live], log_q, max_iter, tol)
        return point.log_w, n_iter, point.gap

    def point(self, beta: float, log_q: np.ndarray) -> tuple[np.ndarray, float, float]:
        """The encoder of ``log_q`` at slope β, its rate (nats) and its distortion."""
        encoder = _encoder(log_q, -beta * self.excess)
        rate = mutual_information_nats(self.p_x[:, None] * encoder)
        return encoder, rate, float(self.p_x @ (encoder * self.distortion).sum(axis=1))

    def rate_at_d_min(self, max_iter: int, tol: float) -> tuple[float, bool]:
        """R(D_min) in nats, the β → ∞ limit: the least I(X;X̂) using best letters only.

        Each x may use only the reproductions at its least distortion; the reproductions
        that are nobody's best are left out. Returns the rate and whether it converged.
        """
        live = self.live
        best = self.distortion[live] == self.distortion[live].min(axis=1, keepdims=True)
        used = best.any(axis=0)
        log_kernel = np.where(best[:, used], 0.0, -np.inf)
        point, _ = self._iterate(log_kernel, _uniform(int(used.sum())), max_iter, tol)
        encoder = _encoder(point.log_w, log_kernel)
        return mutual_information_nats(self.p_x[live, None] * encoder), point.gap <= tol


def _prepare(p_x: Any, distortion: Any) -> _Source:
    """Validate a source p(x) and its distortion matrix d(x, x̂)."""
    p = check_probabilities(p_x, "p_x", ndim=1)
    d = check_array(distortion, "distortion", ndim=2)
    if d.shape[0] != p.shape[0]:
        raise InvalidParameterError(
            f"distortion must have one row per letter of p_x, shape (|X|, |X̂|) = "
            f"({p.shape[0]}, k); got shape {d.shape}"
        )
    negative = d < 0
    if negative.any():
        raise InvalidParameterError(
            f"distortion has {int(negative.sum())} negative entries (min {d.min():.3g}); "
            "pass d(x, x̂) >= 0 (adding a constant to a row shifts D and leaves the encoder "
            "unchanged)"
        )
    return _Source(p, d)


def _warn_unconverged(message: str) -> None:
    """Issue ``message`` as a :class:`~ibkit.ConvergenceWarning` at the public caller."""
    warnings.warn(message, ConvergenceWarning, stacklevel=3)


def _check_solver_options(max_iter: Any, tol: Any, units: Any) -> tuple[int, float, str]:
    return check_int(max_iter, "max_iter"), check_positive(tol, "tol"), check_units(units)


# --------------------------------------------------------------------------- public


def blahut_arimoto(
    p_x: Any,
    distortion: Any,
    beta: float,
    *,
    max_iter: int = 10_000,
    tol: float = 1e-10,
    units: str = "bits",
) -> RDResult:
    r"""The rate–distortion point of slope β, by the Blahut–Arimoto algorithm.

    Minimises :math:`I(X;\hat X) + \beta\,\mathbb{E}\,d(X,\hat X)` (nats) over encoders
    q(x̂|x); the optimum is the point of R(D) where :math:`dR/dD = -\beta` (Blahut 1972,
    Arimoto 1972; see :mod:`ibkit.rd`). The problem is convex: the result is the global
    optimum, whatever the start.

    Parameters
    ----------
    p_x : array_like, shape (|X|,)
        The source distribution.
    distortion : array_like, shape (|X|, |X̂|)
        d(x, x̂) ≥ 0, finite.
    beta : float
        The slope β > 0 in nats of rate per unit of distortion; large values (1e6) are
        exact.
    max_iter, tol : int, float
        Stop when Blahut's bound ``gap`` on the suboptimality of the Lagrangian is at
        most ``tol`` nats, or after ``max_iter`` updates; then a
        :class:`~ibkit.ConvergenceWarning` is issued and ``converged`` is False (the
        point still lies within ``gap`` above the curve).
    units : {"bits", "nats"}
        Units of the rate, the objective and ``gap``.

    Returns
    -------
    RDResult

    Examples
    --------
    A fair bit under Hamming distortion: R(D) = 1 − H(D) bits, and the slope β gives
    D = 1 / (1 + e^β).

    >>> import numpy as np
    >>> res = blahut_arimoto([0.5, 0.5], 1 - np.eye(2), beta=np.log(9))
    >>> round(res.distortion, 6), round(res.rate, 6)  # D = 0.1, 1 − H(0.1)
    (0.1, 0.531004)
    """
    source = _prepare(p_x, distortion)
    beta = check_positive(beta, "beta")
    max_iter, tol, units = _check_solver_options(max_iter, tol, units)
    log_q, n_iter, gap = source.solve(beta, _uniform(source.n_out), max_iter, tol)
    converged = gap <= tol
    if not converged:
        _warn_unconverged(
            f"blahut_arimoto did not converge in max_iter={max_iter} updates at "
            f"beta={beta:g} (gap {gap:.3g} nats > tol={tol:g}); increase max_iter or tol. "
            "Convergence is slowest near the slopes where a reproduction comes into use "
            "and when two reproductions have nearly the same distortions."
        )
    encoder, rate, dist = source.point(beta, log_q)
    return RDResult(
        p_xhat_given_x=encoder,
        p_xhat=source.p_x @ encoder,
        beta=beta,
        rate=float(from_nats(rate, units)),
        distortion=dist,
        objective=float(from_nats(rate + beta * dist, units)),
        gap=float(from_nats(gap, units)),
        units=units,
        n_iter=n_iter,
        converged=converged,
    )


@dataclass
class _Trace:
    """Points solved so far, sorted by β (internal)."""

    betas: list[float]
    log_qs: list[np.ndarray]
    rates: list[float]  # nats
    distortions: list[float]
    n_iter: list[int]
    converged: list[bool]


class _Tracer:
    """Solves β values, each from the solution of the next smaller β solved (internal)."""

    def __init__(
        self, source: _Source, max_iter: int, tol: float, progress: Progress | None
    ) -> None:
        self.source, self.max_iter, self.tol, self.progress = source, max_iter, tol, progress
        self.trace = _Trace([], [], [], [], [], [])

    def solve(self, beta: float, pending: int = 0) -> None:
        """Solve at β and insert the point in order.

        ``pending`` is the number of β still planned, for ``progress(done, total)``.
        """
        t = self.trace
        k = int(np.searchsorted(t.betas, beta))
        # from the next smaller β when there is one, else from the next larger
        start = t.log_qs[max(k - 1, 0)] if t.betas else _uniform(self.source.n_out)
        log_q, n_iter, gap = self.source.solve(beta, start, self.max_iter, self.tol)
        _, rate, dist = self.source.point(beta, log_q)
        for values, value in zip(
            (t.betas, t.log_qs, t.rates, t.distortions, t.n_iter, t.converged),
            (beta, log_q, rate, dist, n_iter, gap <= self.tol),
            strict=True,
        ):
            values.insert(k, value)
        if self.progress is not None:
            self.progress(len(t.betas), len(t.betas) + pending)

    def walk(self, r_max: float, d_min: float, d_max: float) -> None:
        """Double β up, and halve it down, from 1 / max d(x, ·)-spread to the curve's ends.

        Downwards until the rate is at most ``_END``·R(D_min), which R ≤ β·spread (nats)
        guarantees by β = ``_END``·R(D_min)/spread; upwards until the distortion is
        within ``_END``·(D_max − D_min) of D_min, which β·(D − D_min) ≤ R(D_min)
        guarantees by β = R(D_min)/(``_END``·(D_max − D_min)).
        """
        spread = float(self.source.excess.max())
        t = self.trace
        rate_end, dist_end = _END * r_max, _END * (d_max - d_min)
        beta_low, beta_high = rate_end / spread, r_max / dist_end
        self.solve(1.0 / spread, pending=1)
        while t.rates[0] > rate_end and t.betas[0] > beta_low:
            self.solve(t.betas[0] / 2.0, pending=1)
        while t.distortions[-1] - d_min > dist_end and t.betas[-1] < beta_high:
            self.solve(t.betas[-1] * 2.0, pending=1)

    def refine(self, step_d: float, step_r: float, budget: int) -> None:
        """Insert β midway (geometrically) where neighbouring points are far apart.

        Rounds repeat until neighbours are within (``step_d``, ``step_r``), or within
        1 % in β, or ``budget`` new β are spent.
        """
        t = self.trace

        def far(k: int) -> bool:
            return t.betas[k + 1] > 1.01 * t.betas[k] and (
                abs(t.distortions[k + 1] - t.distortions[k]) > step_d
                or abs(t.rates[k + 1] - t.rates[k]) > step_r
            )

        while budget > 0:
            todo = [k for k in range(len(t.betas) - 1) if far(k)][:budget]
            if not todo:
                return
            for done, k in enumerate(reversed(todo)):
                self.solve(float(np.sqrt(t.betas[k] * t.betas[k + 1])), len(todo) - done - 1)
            budget -= len(todo)


def rd_curve(
    p_x: Any,
    distortion: Any,
    betas: Sequence[float] | np.ndarray | None = None,
    *,
    resolution: float = 0.02,
    max_iter: int = 10_000,
    tol: float = 1e-10,
    units: str = "bits",
    progress: Progress | None = None,
) -> RDCurve:
    r"""The rate–distortion curve R(D) of a source, by Blahut–Arimoto over slopes β.

    Each β gives the point of slope −β (rate in nats; see :func:`blahut_arimoto`),
    solved from the solution of the next smaller β solved (the next larger when there is
    none; reproductions out of use can return, see :mod:`ibkit.rd`). The frontier is
    the lower convex envelope of the points and the curve's two ends, (D_min, R(D_min))
    (the limit β → ∞, solved directly) and (D_max, 0).

    Parameters
    ----------
    p_x : array_like, shape (|X|,)
        The source distribution.
    distortion : array_like, shape (|X|, |X̂|)
        d(x, x̂) ≥ 0, finite.
    betas : sequence of float, optional
        Slopes to solve at (any order; results come sorted). When omitted, β starts at
        1/s, with s the largest spread max d(x,·) − min d(x,·) of a row, is halved until
        the rate is within 1e-4·R(D_min) of 0 and doubled until the distortion is within
        1e-4·(D_max − D_min) of D_min (the bounds R ≤ β·s and β·(D − D_min) ≤ R(D_min)
        end both walks), and is then refined wherever neighbouring points are further
        apart than ``resolution`` of the curve's extent on either axis. When one
        reproduction attains D_min for every x the curve is a single point, solved at
        β = 1.
    resolution : float
        Relative resolution of the automatic grid.
    max_iter, tol : int, float
        Per-β limits (see :func:`blahut_arimoto`); β values that did not converge are
        flagged in ``converged`` and reported in one :class:`~ibkit.ConvergenceWarning`.
    units : {"bits", "nats"}
        Units of the rates.
    progress : callable(done, total), optional
        Called after each β with the β solved and the β solved or planned (the total
        grows while the automatic grid extends).

    Returns
    -------
    RDCurve

    Examples
    --------
    A Bernoulli(0.2) source under Hamming distortion: R(D) = H(0.2) − H(D) for
    D ≤ 0.2, and 0 beyond.

    >>> import numpy as np
    >>> curve = rd_curve([0.8, 0.2], 1 - np.eye(2))
    >>> curve.d_min, curve.d_max, round(curve.rate_at_d_min, 6)  # H(0.2) bits
    (0.0, 0.2, 0.721928)
    >>> float(curve.rate_at(0.2)), round(float(curve.rate_at(0.1)), 2)  # H(.2) − H(.1)
    (0.0, 0.25)
    """
    source = _prepare(p_x, distortion)
    max_iter, tol, units = _check_solver_options(max_iter, tol, units)
    resolution = check_positive(resolution, "resolution")
    progress = check_callback(progress, "progress")
    grid = None
    if betas is not None:
        grid = np.sort(np.atleast_1d(check_array(betas, "betas", ndim=(0, 1))))
        if (grid <= 0).any():
            raise InvalidParameterError(f"betas must all be > 0; got min {grid.min():g}")
    d_min, d_max = source.d_min, source.d_max
    r_max, end_converged = source.rate_at_d_min(max_iter, tol)
    tracer = _Tracer(source, max_iter, tol, progress)
    if grid is not None:
        for k, beta in enumerate(grid):
            tracer.solve(float(beta), pending=len(grid) - k - 1)
    elif d_max <= d_min:  # one reproduction is best for every x: the curve is a point
        tracer.solve(1.0)
    else:
        tracer.walk(r_max, d_min, d_max)
        tracer.refine(
            resolution * (d_max - d_min), resolution * r_max, budget=4 * len(tracer.trace.betas)
        )
    t = tracer.trace
    converged = np.array(t.converged + [end_converged])
    if not converged.all():
        _warn_unconverged(
            f"rd_curve: {int((~converged).sum())} of {len(converged)} solves (the beta "
            "values and the end at D_min) did not converge within max_iter; increase "
            "max_iter or tol."
        )
    rates, dists = np.array(t.rates), np.array(t.distortions)
    # the lower convex envelope of (D, R) is the upper concave one of (D, −R)
    env_d, neg_r = upper_concave_envelope(
        np.concatenate([[d_min, d_max], dists]), -np.concatenate([[r_max, 0.0], rates])
    )
    return RDCurve(
        betas=np.array(t.betas),
        rate=from_nats(rates, units),
        distortion=dists,
        n_iter=np.array(t.n_iter),
        converged=converged[:-1],
        envelope_distortion=env_d,
        envelope_rate=from_nats(-neg_r, units),
        d_min=d_min,
        d_max=d_max,
        rate_at_d_min=float(from_nats(r_max, units)),
        units=units,
    )


def channel_capacity(
    p_y_given_x: Any,
    *,
    max_iter: int = 10_000,
    tol: float = 1e-10,
    units: str = "bits",
) -> CapacityResult:
    r"""Capacity :math:`C = \max_{p(x)} I(X;Y)` of a channel, by Blahut–Arimoto.

    Iterates :math:`p(x) \leftarrow p(x) e^{K(x)} / \sum_{x'} p(x') e^{K(x')}`,
    :math:`K(x) = D_{KL}[p(y|x) \,\|\, p(y)]`, from the uniform input (Arimoto 1972,
    Blahut 1972), until :math:`\max_x K(x) - I(X;Y)`, which bounds C − I(X;Y) from
    above, is at most ``tol`` nats.

    Parameters
    ----------
    p_y_given_x : array_like, shape (|X|, |Y|)
        The channel: row x is the distribution of the output given input x.
    max_iter, tol : int, float
        Stop when the bound is at most ``tol`` nats, or after ``max_iter`` updates;
        then a :class:`~ibkit.ConvergenceWarning` is issued and ``converged`` is False.
    units : {"bits", "nats"}

    Returns
    -------
    CapacityResult

    Examples
    --------
    The binary symmetric channel with crossover 0.1: C = 1 − H(0.1) bits, uniform input.

    >>> res = channel_capacity([[0.9, 0.1], [0.1, 0.9]])
    >>> round(res.capacity, 6), res.p_x.round(6).tolist()
    (0.531004, [0.5, 0.5])
    """
    full = check_conditional(p_y_given_x, "p_y_given_x", "p(y|x)")
    max_iter, tol, units = _check_solver_options(max_iter, tol, units)
    channel = full[:, full.any(axis=0)]  # outputs that never occur carry nothing
    with np.errstate(divide="ignore"):
        log_channel = np.log(channel)
    neg_h = xlogy(channel, channel).sum(axis=1)

    def evaluate(log_p: np.ndarray) -> _Point:
        log_joint = log_p[:, None] + log_channel
        log_p_y = _log_sum_exp(log_joint, axis=0)
        kl = neg_h - channel @ log_p_y  # K(x) = KL[p(y|x) ‖ p(y)]
        p, p_y = np.exp(log_p), np.exp(log_p_y)
        info = float(p @ kl)
        posterior = np.exp(log_joint - log_p_y)  # p(x|y)

        def change(move: np.ndarray) -> float:
            # −(I(v) − I(p)) from the ratios v(x)/p(x) − 1 and v(y)/p(y) − 1 = u(y)
            grow = _ratios(log_p, move)
            u = grow @ posterior
            with np.errstate(divide="ignore", invalid="ignore"):  # u = −1: 0·log 0 = 0
                plogp = np.where(u > -1, (1 + u) * np.log1p(u), 0.0)
            change_h_y = -(p_y * u) @ log_p_y - p_y @ plogp
            return -float(change_h_y + (p * grow) @ neg_h)

        # the log of the factor p(x) is multiplied by: 0 where p is optimal and in use
        log_factor = kl - _log_sum_exp(log_p + kl, axis=0)
        return _Point(log_p, log_factor, max(float(kl.max() - info), 0.0), change)

    point, n_iter = _iterate(evaluate, _uniform(channel.shape[0]), max_iter, tol)
    gap = point.gap
    if gap > tol:
        _warn_unconverged(
            f"channel_capacity did not converge in max_iter={max_iter} updates (gap "
            f"{gap:.3g} nats > tol={tol:g}); increase max_iter or tol."
        )
    log_p = point.log_w
    p = np.exp(log_p)
    joint = p[:, None] * full
    return CapacityResult(
        capacity=float(from_nats(mutual_information_nats(joint), units)),
        p_x=p,
        p_y=joint.sum(axis=0),
        gap=float(from_nats(gap, units)),
        units=units,
        n_iter=n_iter,
        converged=gap <= tol,
    )
